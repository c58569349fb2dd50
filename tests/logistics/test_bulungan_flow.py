"""Bulungan (65.01, WITA) end to end on the real servers: plan → shipments by land, river, sea and air →
delays, shortages, damage, a wrong type and a wrong destination → events on Kafka and readiness rollups.
Inbound scans arrive duplicated and out of order."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from siaga_logistics.handlers import sweep_delays, sweep_risk
from siaga_logistics.settings import LogisticsSettings
from siaga_runtime import ManualClock
from siaga_schemas import Envelope
from siaga_schemas.events.logistics import ShipmentStatusReported
from siaga_schemas.topics import LOGISTICS_STATUS_UPDATES

from ..helpers import problem, produce, read_to_end, wait_until
from .support import (
    OPERATOR_BULUNGAN,
    OPERATOR_OTHER_KAB,
    OPERATOR_PPK_TANJUNG_SELOR,
    READER_BAWASLU_KALTARA,
    READER_DESK_BULUNGAN,
    auth,
    events,
    full_pod,
    handover,
    of_type,
    running,
)

pytestmark = pytest.mark.integration

OP = auth(OPERATOR_BULUNGAN)
ELECTION = "pilkada2024"
PLAN: dict[str, Any] = {
    "plan_id": "plan-pilkada2024-65.01",
    "election_id": ELECTION,
    "region": "65.01",
    "voting_day": "2024-11-27",
    "contests": ["gubernur", "bupati"],
    "distribution_starts_at": "2024-11-18T08:00:00",
    "warehouse_name": "Gudang KPU Bulungan, Tanjung Selor",
    "ppk": [
        {"region": "65.01.05", "mode": "land"},  # Tanjung Selor
        {"region": "65.01.07", "mode": "river"},  # Peso, up the Kayan
        {"region": "65.01.10", "mode": "sea"},  # Bunyu island
    ],
    "pps": [
        {"region": "65.01.05.1001", "mode": "land"},
        {"region": "65.01.05.1002", "mode": "land"},
        {"region": "65.01.07.2001", "mode": "river"},
        {"region": "65.01.07.2002", "mode": "river"},
        {"region": "65.01.10.2001", "mode": "land"},
    ],
    "tps": [
        {"tps_id": "tps-65.01.05.1001-001", "region": "65.01.05.1001", "dpt": 540},
        {"tps_id": "tps-65.01.05.1001-002", "region": "65.01.05.1001", "dpt": 512},
        {"tps_id": "tps-65.01.05.1002-001", "region": "65.01.05.1002", "dpt": 498},
        {"tps_id": "tps-65.01.05.1002-002", "region": "65.01.05.1002", "dpt": 430},
        {"tps_id": "tps-65.01.07.2001-001", "region": "65.01.07.2001", "dpt": 310, "mode": "river"},
        {"tps_id": "tps-65.01.07.2001-002", "region": "65.01.07.2001", "dpt": 285, "mode": "river"},
        {"tps_id": "tps-65.01.07.2002-001", "region": "65.01.07.2002", "dpt": 190, "mode": "on_foot"},
        {"tps_id": "tps-65.01.10.2001-001", "region": "65.01.10.2001", "dpt": 450},
        {"tps_id": "tps-65.01.10.2001-002", "region": "65.01.10.2001", "dpt": 447},
        {
            "tps_id": "tps-65.01.09.2001-001",
            "region": "65.01.09.2001",
            "dpt": 160,
            "mode": "air",
            "direct": True,
        },
    ],
}
DELAYED_PPK = "ppk-65.01.07"
LATE_TPS = "tps-65.01.07.2002-001"
DAMAGED = "tps-65.01.05.1001-001"
SHORT = "tps-65.01.05.1002-001"
WRONG_TYPE = "tps-65.01.10.2001-001"
WRONG_PLACE = "tps-65.01.10.2001-002"
INBOUND_POD = "pps-65.01.05.1001"
BY_AIR = "tps-65.01.09.2001-001"
REROUTED = "pps-65.01.05.1002"


def wita(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def shp(leg_id: str) -> str:
    """Every leg of a plan is a shipment, named after the plan and the leg."""
    return f"{PLAN['plan_id']}:{leg_id}"


def scan(
    shipment_id: str, status: str, at: str, **extra: Any
) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    data = ShipmentStatusReported(
        shipment_id=shipment_id,
        status=status,
        observed_at=wita(at),
        source_system="silog-kpu",
        **extra,
    )
    env = Envelope.wrap(data, source="/agency/silog-kpu")
    return ("", shipment_id.encode(), env.to_bytes(), env.kafka_headers())


def _pod(changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per-line proof-of-delivery changes, keyed by ``item/variant`` (not names Python allows as keywords)."""
    return changes


async def test_bulungan_distribution_end_to_end(logistics_settings: LogisticsSettings) -> None:
    clock = ManualClock(wita("2024-11-18T07:00:00"))
    s = logistics_settings
    status_topic = s.topic_name(LOGISTICS_STATUS_UPDATES.name)
    async with running(s, clock) as svc:
        c = svc.client
        # -- bad input and scopes --------------------------------------------------------------------
        bad = {**PLAN, "tps": [{**PLAN["tps"][0], "dpt": 0}]}
        r = await c.post("/plans", json=bad, headers=OP)
        assert "body.tps.0.dpt" in problem(r, 422)["detail"]
        bad = {**PLAN, "tps": [{**PLAN["tps"][0], "region": "65.01.06.2001"}]}
        r = await c.post("/plans", json=bad, headers=OP)
        assert problem(r, 422)["errors"][0]["field"] == "body.tps.0.region"
        assert (await c.post("/plans", json=PLAN, headers=auth(READER_BAWASLU_KALTARA))).status_code == 403
        assert (await c.post("/plans", json=PLAN, headers=auth(OPERATOR_OTHER_KAB))).status_code == 403
        assert (await c.post("/plans", json=PLAN)).status_code == 401
        # a caller who may not act for the plan's region learns nothing about the body: 403, never 422
        other = auth(OPERATOR_OTHER_KAB)
        for invalid in ({**PLAN, "tps": "keliru"}, {"region": PLAN["region"]}):
            denied = problem(await c.post("/plans", json=invalid, headers=other), 403)
            assert "errors" not in denied and "tps" not in denied["detail"]
        malformed = {**auth(READER_BAWASLU_KALTARA), "Content-Type": "application/json"}
        assert "errors" not in problem(
            await c.post("/plans", content=b'{"region": "65.01", ', headers=malformed), 403
        )

        # -- the plan ------------------------------------------------------------------------------------
        r = await c.post("/plans", json=PLAN, headers=OP)
        assert r.status_code == 201, r.text
        plan = r.json()
        assert plan["legal_deadline_at"] == "2024-11-27T00:00:00+08:00"
        legs = {lg["leg_id"]: lg for lg in plan["legs"]}
        assert len(legs) == 3 + 5 + 10
        assert {lg["mode"] for lg in legs.values()} == {"land", "river", "sea", "air", "on_foot"}
        first = legs["tps-65.01.05.1001-001"]["lines"]
        assert {(ln["item"], ln["variant"], ln["quantity"]) for ln in first if ln["item"] == "ballot"} == {
            ("ballot", "gubernur", 551),
            ("ballot", "bupati", 551),
        }
        assert (await c.post("/plans", json=PLAN, headers=OP)).status_code == 201  # same request: harmless

        # -- every leg is a shipment already; one extra for a leg, cancelled -----------------------------
        first_leg = (await c.get(f"/shipments/{shp(DAMAGED)}", headers=OP)).json()
        assert first_leg["status"] == "planned" and first_leg["leg_id"] == DAMAGED
        r = await c.post(
            "/shipments",
            json={"shipment_id": "shp-extra", "plan_id": PLAN["plan_id"], "leg_id": "nope"},
            headers=OP,
        )
        assert "leg_id" in problem(r, 422)["detail"]
        r = await c.post(
            "/shipments",
            json={"shipment_id": shp("tps-65.01.05.1001-009"), "plan_id": PLAN["plan_id"], "leg_id": DAMAGED},
            headers=OP,
        )
        assert "shipment_id" in problem(r, 422)["detail"]  # a plan leg's id is taken
        extra = {"shipment_id": "shp-extra", "plan_id": PLAN["plan_id"], "leg_id": DAMAGED}
        r = await c.post("/shipments", json={**extra, "lines": "keliru"}, headers=other)
        assert "errors" not in problem(r, 403)  # another kab/kota's leg, an invalid body: 403
        assert (await c.post("/shipments", json=extra, headers=OP)).status_code == 201
        r = await c.post("/shipments/shp-extra/dispatch", json={"eta": "besok"}, headers=other)
        assert "errors" not in problem(r, 403)
        assert (
            await c.post("/shipments/shp-extra/cancel", json={"reason": "digabung"}, headers=OP)
        ).status_code == 200
        assert (await c.post("/shipments/shp-extra/dispatch", json={}, headers=OP)).status_code == 409

        async def dispatch(leg_id: str, at: str, eta: str | None = None) -> None:
            body = {"dispatched_at": at} | ({"eta": eta} if eta else {})
            r = await c.post(f"/shipments/{shp(leg_id)}/dispatch", json=body, headers=OP)
            assert r.status_code == 200, r.text

        async def deliver(
            leg_id: str, at: str, token: str = OPERATOR_BULUNGAN, **changes: Any
        ) -> dict[str, Any]:
            lines = legs[leg_id]["lines"]
            body = {
                "delivered_at": at,
                "lines": full_pod(lines, **changes),
                "handover": handover(f"BA-{leg_id}", at),
            }
            r = await c.post(f"/shipments/{shp(leg_id)}/deliver", json=body, headers=auth(token))
            assert r.status_code == 200, r.text
            return dict(r.json())

        def planned(leg_id: str, key: str) -> str:
            return str(datetime.fromisoformat(legs[leg_id][key]).astimezone(UTC).isoformat())

        # -- warehouse → PPK: land and sea on time; the river boat to Peso is late -----------------------
        for leg_id in legs:
            if leg_id.startswith("ppk-"):
                await dispatch(leg_id, "2024-11-18T08:00:00")
        await deliver("ppk-65.01.05", "2024-11-18T15:30:00")
        await deliver("ppk-65.01.10", "2024-11-19T07:00:00")
        await dispatch(BY_AIR, "2024-11-18T08:00:00")  # straight from the warehouse, by air
        await deliver(BY_AIR, "2024-11-18T11:30:00")
        assert (await c.post(f"/shipments/{shp('ppk-65.01.05')}/close", headers=OP)).status_code == 200

        clock.set(wita("2024-11-19T06:00:00"))
        assert await sweep_delays(svc.stores, clock, critical_slack=_h(48)) == 1
        assert await sweep_delays(svc.stores, clock, critical_slack=_h(48)) == 0  # a second replica
        r = await c.get("/shipments/delayed", headers=auth(READER_BAWASLU_KALTARA))
        assert [(d["shipment_id"], d["delay_severity"]) for d in r.json()] == [(shp(DELAYED_PPK), "warning")]

        # inbound scans for the boat: duplicated (same id, and same scan under a new id) and out of order
        newer = scan(
            shp(DELAYED_PPK),
            "checkpoint",
            "2024-11-20T09:00:00",
            place="Dermaga Long Bia",
            lot_id="LOT-KS-0007",
        )
        older = scan(
            shp(DELAYED_PPK),
            "checkpoint",
            "2024-11-19T20:00:00",
            place="Dermaga Tanjung Selor",
            lot_id="LOT-KS-0007",
        )
        again = scan(
            shp(DELAYED_PPK),
            "checkpoint",
            "2024-11-20T09:00:00",
            place="Dermaga Long Bia",
            lot_id="LOT-KS-0007",
        )
        unknown = scan("shp-nobody", "checkpoint", "2024-11-20T09:00:00", place="x")
        records = [(status_topic, *rec[1:]) for rec in (newer, newer, again, older, unknown)]
        await produce(s.kafka_bootstrap_servers, records)

        async def two_checkpoints() -> bool:
            doc = (await c.get(f"/shipments/{shp(DELAYED_PPK)}", headers=OP)).json()
            return len(doc["checkpoints"]) == 2

        await wait_until(two_checkpoints, timeout=60, what="inbound checkpoints applied")
        boat = (await c.get(f"/shipments/{shp(DELAYED_PPK)}", headers=OP)).json()
        assert boat["status"] == "in_transit" and datetime.fromisoformat(boat["status_at"]) == wita(
            "2024-11-20T09:00:00"
        )
        assert [cp["place"] for cp in boat["checkpoints"]] == ["Dermaga Tanjung Selor", "Dermaga Long Bia"]
        await deliver(DELAYED_PPK, "2024-11-21T10:00:00")

        # -- PPK → PPS ---------------------------------------------------------------------------------
        # an inbound delivery with proof of delivery, then stale scans that must not move it back
        await dispatch(INBOUND_POD, "2024-11-19T16:00:00")
        pod = full_pod(legs[INBOUND_POD]["lines"])
        delivered = scan(
            shp(INBOUND_POD),
            "delivered",
            "2024-11-20T01:00:00",
            region="65.01.05.1001",
            lines=pod,
            handover=handover("BA-PPS-1001", "2024-11-20T01:00:00"),
        )
        stale = scan(shp(INBOUND_POD), "checkpoint", "2024-11-19T20:00:00", place="Jalan Sengkawit")
        bad_pod = json.loads(
            scan(
                shp(INBOUND_POD),
                "delivered",
                "2024-11-20T02:00:00",
                lines=pod,
                handover=handover("BA-x", "2024-11-20T02:00:00"),
            )[2]
        )
        bad_pod["data"]["lines"][0]["accepted"] -= 1  # accepted + rejected != shipped
        await produce(
            s.kafka_bootstrap_servers,
            [
                (status_topic, *delivered[1:]),
                (status_topic, *stale[1:]),
                (status_topic, shp(INBOUND_POD).encode(), json.dumps(bad_pod).encode(), delivered[3]),
            ],
        )

        async def inbound_done() -> bool:
            doc = (await c.get(f"/shipments/{shp(INBOUND_POD)}", headers=OP)).json()
            return doc["status"] == "delivered" and len(doc["checkpoints"]) == 1

        await wait_until(inbound_done, timeout=60, what="inbound delivery and stale scan applied")
        dlt = await read_to_end(s.kafka_bootstrap_servers, status_topic + ".dlt")
        assert len(dlt) == 2  # the unknown shipment and the unbalanced proof of delivery

        # the second PPS in Tanjung Selor: landslide, rerouted on foot
        await dispatch(REROUTED, "2024-11-19T16:00:00")
        r = await c.post(
            f"/shipments/{shp(REROUTED)}/reroute",
            headers=OP,
            json={
                "reason": "longsor di jalan desa",
                "transport_mode": "on_foot",
                "via": "jalan setapak",
                "eta": "2024-11-20T10:00:00",
                "rerouted_at": "2024-11-19T19:00:00",
            },
        )
        assert r.status_code == 200 and r.json()["status"] == "rerouted"
        await deliver(REROUTED, "2024-11-20T09:30:00")
        await dispatch("pps-65.01.10.2001", "2024-11-20T07:00:00")
        await deliver("pps-65.01.10.2001", "2024-11-20T14:00:00")
        for d in ("65.01.07.2001", "65.01.07.2002"):
            await dispatch(f"pps-{d}", "2024-11-22T08:00:00", "2024-11-23T00:00:00")
            await deliver(f"pps-{d}", "2024-11-22T20:00:00")

        # -- to the TPS ----------------------------------------------------------------------------------
        r = await c.post(
            f"/shipments/{shp(DAMAGED)}/deliver",
            headers=OP,
            json={
                "lines": full_pod(
                    legs[DAMAGED]["lines"], **{"ballot/bupati": {"accepted": 546, "rejected": 4}}
                ),
                "handover": handover("BA-bad", "2024-11-21T10:00:00"),
            },
        )
        assert "body.lines.3" in problem(r, 422)["detail"]  # a rejection without reason
        for leg_id in legs:
            if not leg_id.startswith("tps-") or leg_id in (LATE_TPS, BY_AIR):
                continue
            await dispatch(leg_id, "2024-11-23T07:00:00", "2024-11-23T20:00:00")
        # operators act only within their region: a PPK operator of Tanjung Selor cannot receive in Bunyu
        r = await c.post(
            f"/shipments/{shp(WRONG_TYPE)}/deliver",
            headers=auth(OPERATOR_PPK_TANJUNG_SELOR),
            json={
                "lines": full_pod(legs[WRONG_TYPE]["lines"]),
                "handover": handover("BA-z", "2024-11-23T12:00:00"),
            },
        )
        assert r.status_code == 403
        assert (
            await c.post(
                f"/shipments/{shp(WRONG_TYPE)}/dispatch", json={}, headers=auth(READER_DESK_BULUNGAN)
            )
        ).status_code == 403
        await deliver(
            DAMAGED,
            "2024-11-23T10:00:00",
            OPERATOR_PPK_TANJUNG_SELOR,
            **_pod({"ballot/bupati": {"accepted": 546, "rejected": 5, "rejection_reasons": {"damaged": 5}}}),
        )
        await deliver(SHORT, "2024-11-23T10:00:00", **_pod({"ballot_box/": {"shipped": 1, "accepted": 1}}))
        await deliver(
            WRONG_TYPE,
            "2024-11-23T12:00:00",
            **_pod({"ink/": {"accepted": 0, "rejected": 2, "rejection_reasons": {"wrong_type": 2}}}),
        )
        # the Bunyu TPS-002 box is scanned in another desa: wrong destination; then brought and received
        wrong = scan(shp(WRONG_PLACE), "delivered", "2024-11-23T11:00:00", region="65.01.10.2002")
        await produce(s.kafka_bootstrap_servers, [(status_topic, *wrong[1:])])

        async def arrived() -> bool:
            return (await c.get(f"/shipments/{shp(WRONG_PLACE)}", headers=OP)).json()[
                "arrived_at"
            ] is not None

        await wait_until(arrived, timeout=60, what="wrong-destination scan applied")
        await deliver(WRONG_PLACE, "2024-11-23T16:00:00")
        for leg_id in legs:
            if leg_id.startswith("tps-") and leg_id not in (
                LATE_TPS,
                BY_AIR,
                DAMAGED,
                SHORT,
                WRONG_TYPE,
                WRONG_PLACE,
            ):
                await deliver(leg_id, "2024-11-23T15:00:00")
        # a replacement for the damaged ballots makes that TPS complete
        repl = {
            "shipment_id": "shp-replacement",
            "plan_id": PLAN["plan_id"],
            "leg_id": DAMAGED,
            "lines": [{"item": "ballot", "variant": "bupati", "quantity": 5, "unit": "sheet"}],
            "planned_dispatch_at": "2024-11-24T08:00:00",
            "eta": "2024-11-24T12:00:00",
        }
        assert (await c.post("/shipments", json=repl, headers=OP)).status_code == 201
        assert (
            await c.post(
                "/shipments/shp-replacement/dispatch",
                json={"dispatched_at": "2024-11-24T08:00:00"},
                headers=OP,
            )
        ).status_code == 200
        r = await c.post(
            "/shipments/shp-replacement/deliver",
            headers=OP,
            json={
                "delivered_at": "2024-11-24T11:00:00",
                "lines": [
                    {"item": "ballot", "variant": "bupati", "shipped": 5, "accepted": 5, "rejected": 0}
                ],
                "handover": handover("BA-repl", "2024-11-24T11:00:00"),
            },
        )
        assert r.status_code == 200, r.text

        # the on-foot TPS in Peso is late: critical, then will miss H-1, then delivered
        await dispatch(LATE_TPS, "2024-11-23T06:00:00", "2024-11-23T18:00:00")
        clock.set(wita("2024-11-25T12:00:00"))
        assert await sweep_delays(svc.stores, clock, critical_slack=_h(48)) == 1
        clock.set(wita("2024-11-27T01:00:00"))
        assert await sweep_delays(svc.stores, clock, critical_slack=_h(48)) == 1
        assert await sweep_delays(svc.stores, clock, critical_slack=_h(48)) == 0
        r = await c.get(
            "/shipments/delayed", params={"within": "65.01.07"}, headers=auth(READER_DESK_BULUNGAN)
        )
        assert [(d["shipment_id"], d["delay_severity"]) for d in r.json()] == [
            (shp(LATE_TPS), "will_miss_h1")
        ]
        await deliver(LATE_TPS, "2024-11-27T03:00:00")
        assert (await c.get("/shipments/delayed", headers=auth(READER_DESK_BULUNGAN))).json() == []

        # -- readiness: 8 of 10 TPS (one short, one wrong type) ------------------------------------------
        async def province_counted() -> bool:
            r = await c.get(
                "/readiness/65", params={"election_id": ELECTION}, headers=auth(READER_BAWASLU_KALTARA)
            )
            return r.status_code == 200 and r.json()["tps_ready"] == 8

        await wait_until(province_counted, timeout=60, what="readiness rollups")
        clock.set(wita("2024-11-27T04:00:00"))
        kab = (
            await c.get(
                "/readiness/65.01", params={"election_id": ELECTION}, headers=auth(READER_DESK_BULUNGAN)
            )
        ).json()
        assert (kab["tps_total"], kab["tps_ready"], kab["planned"], kab["behind_plan"]) == (10, 8, 1.0, True)
        subs = {x["region"]: (x["tps_total"], x["tps_ready"]) for x in kab["subdivisions"]}
        assert subs == {"65.01.05": (4, 3), "65.01.07": (3, 3), "65.01.09": (1, 1), "65.01.10": (2, 1)}
        kec = (await c.get("/readiness/65.01.10", params={"election_id": ELECTION}, headers=OP)).json()
        assert kec["readiness"] == 0.5 and [t["ready"] for t in kec["tps"]] == [False, True]
        prov = (
            await c.get(
                "/readiness/65", params={"election_id": ELECTION}, headers=auth(READER_BAWASLU_KALTARA)
            )
        ).json()
        assert (prov["tps_total"], prov["tps_ready"], prov["subdivisions"][0]["region"]) == (10, 8, "65.01")
        assert (
            await c.get(
                "/readiness/65.01", params={"election_id": ELECTION}, headers=auth(OPERATOR_OTHER_KAB)
            )
        ).status_code == 403
        assert await sweep_risk(svc.stores, clock) == 4
        assert await sweep_risk(svc.stores, clock) == 0  # once per region per day

        # -- every event, read back from Kafka -----------------------------------------------------------
        evs = await events(s, svc.stores)
        count = {
            t: len(of_type(evs, t))
            for t in (
                "plan-created",
                "shipment-planned",
                "shipment-dispatched",
                "shipment-delivered",
                "shipment-cancelled",
                "shipment-rerouted",
                "shipment-closed",
                "shipment-checkpoint-passed",
                "tps-supplied",
            )
        }
        assert count == {
            "plan-created": 1,
            "shipment-planned": 20,
            "shipment-dispatched": 19,
            "shipment-delivered": 19,
            "shipment-cancelled": 1,
            "shipment-rerouted": 1,
            "shipment-closed": 1,
            "shipment-checkpoint-passed": 3,
            "tps-supplied": 8,
        }
        delayed = [
            (e["data"]["shipment_id"], e["data"]["severity"]) for e in of_type(evs, "shipment-delayed")
        ]
        assert sorted(delayed) == sorted(
            [(shp(DELAYED_PPK), "warning"), (shp(LATE_TPS), "critical"), (shp(LATE_TPS), "will_miss_h1")]
        )
        late = next(e for e in of_type(evs, "shipment-delayed") if e["data"]["severity"] == "will_miss_h1")
        assert (
            datetime.fromisoformat(late["data"]["deadline_at"]) == wita("2024-11-27T00:00:00")
            and late["data"]["slack_seconds"] == -3600
        )
        was_delayed = {
            e["data"]["shipment_id"] for e in of_type(evs, "shipment-delivered") if e["data"]["was_delayed"]
        }
        assert was_delayed == {shp(DELAYED_PPK), shp(LATE_TPS)}
        found = sorted(
            (e["data"]["shipment_id"], e["data"]["category"], e["data"]["item"], e["data"]["quantity"])
            for e in of_type(evs, "shipment-discrepancy-found")
        )
        assert found == sorted(
            [
                (shp(DAMAGED), "damaged", "ballot", 5),
                (shp(SHORT), "short", "ballot_box", 1),
                (shp(WRONG_TYPE), "wrong_type", "ink", 2),
                (
                    shp(WRONG_PLACE),
                    "wrong_destination",
                    "ballot_box",
                    sum(ln["quantity"] for ln in legs[WRONG_PLACE]["lines"]),
                ),
            ]
        )
        at_risk = sorted(e["data"]["region"] for e in of_type(evs, "region-at-risk"))
        assert at_risk == ["65", "65.01", "65.01.05", "65.01.10"]
        assert all(e["source"] == "/siaga/logistics" and e["partitionkey"] for e in evs)
        assert planned(DELAYED_PPK, "deadline_at") < planned(LATE_TPS, "deadline_at")


def _h(hours: float) -> Any:
    from datetime import timedelta

    return timedelta(hours=hours)
