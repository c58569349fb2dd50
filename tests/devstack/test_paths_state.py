"""A second set of local servers with its own state (the chaos run's): ``Paths.state_dir``."""

from __future__ import annotations

from pathlib import Path

from siaga_devstack.ferretdb import FerretDB
from siaga_devstack.kafka import KafkaNode
from siaga_devstack.paths import Paths


def test_servers_of_another_state_dir_keep_their_data_logs_and_pids_there(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    own = Paths(root, state_dir=tmp_path / "chaos")
    shared = Paths(root)
    assert FerretDB(own, port=29301).pidfile.is_relative_to(tmp_path / "chaos")
    assert own.ferretdb_data == tmp_path / "chaos" / "ferretdb" / "data"
    assert KafkaNode(own, port=29311, controller_port=29331).marker.startswith(str(tmp_path / "chaos"))
    assert own.ferretdb_bin == shared.ferretdb_bin  # the binaries and downloads stay the checkout's
    assert own.kafka_lib == shared.kafka_lib
    assert shared.state == root / ".devstack"
