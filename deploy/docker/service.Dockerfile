# One image recipe for every Siaga service; docker-compose.yml passes the service and its port:
#   docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=meetings --build-arg PORT=8101 \
#       -t siaga/meetings:dev .
# Build context: the repository root.
FROM python:3.11-slim

ARG UV_VERSION=0.13.8
ARG SERVICE
ARG PORT

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

RUN test -n "${SERVICE}" && test -n "${PORT}" \
    && pip install --no-cache-dir "uv==${UV_VERSION}" \
    && groupadd --system --gid 10001 siaga \
    && useradd --system --uid 10001 --gid siaga --home-dir /app --no-create-home --shell /usr/sbin/nologin siaga

WORKDIR /app

# 1. Third-party dependencies only, from the lock file: this layer is reused until a pyproject or the lock changes.
#    Every workspace member's pyproject.toml must be present for uv to read the workspace.
COPY pyproject.toml uv.lock ./
COPY schemas/pyproject.toml schemas/pyproject.toml
COPY runtime/pyproject.toml runtime/pyproject.toml
COPY deploy/devstack/pyproject.toml deploy/devstack/pyproject.toml
COPY deploy/simulator/pyproject.toml deploy/simulator/pyproject.toml
COPY services/meetings/pyproject.toml services/meetings/pyproject.toml
COPY services/logistics/pyproject.toml services/logistics/pyproject.toml
COPY services/notifications/pyproject.toml services/notifications/pyproject.toml
COPY services/console/pyproject.toml services/console/pyproject.toml
RUN uv sync --frozen --no-dev --package "siaga-${SERVICE}" --no-install-workspace

# 2. The workspace packages this service needs, then the service itself.
COPY schemas schemas
COPY runtime runtime
COPY deploy/devstack deploy/devstack
COPY services/${SERVICE} services/${SERVICE}
RUN uv sync --frozen --no-dev --package "siaga-${SERVICE}" \
    && /app/.venv/bin/python -c "import siaga_${SERVICE}.__main__"

ENV PATH=/app/.venv/bin:$PATH \
    SERVICE_NAME=${SERVICE} \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=${PORT}

USER siaga:siaga
EXPOSE ${PORT}

HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ['HTTP_PORT'], timeout=4)"]

# SERVICE_NAME is fixed at build time; the shell only expands it (exec keeps signals going to Python).
CMD ["sh", "-c", "exec python -m \"siaga_${SERVICE_NAME}\""]
