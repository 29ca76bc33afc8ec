# The lakehouse code location as an image: a Dagster gRPC code server on port 4000.
# BASE is the production base; a build on a machine without registry access passes a local one
# (`--build-arg BASE=localhost/base`).
ARG BASE=python:3.11-slim
FROM ${BASE}

WORKDIR /opt/lakehouse
ENV LAKEHOUSE_PROJECT_DIR=/opt/lakehouse \
    LAKEHOUSE_DATA_DIR=/data \
    PATH=/opt/lakehouse/.venv/bin:$PATH

# Dependencies first (a layer that changes only with the lock files), then the code.
COPY requirements.lock requirements-bootstrap.lock pyproject.toml README.md ./
COPY scripts ./scripts
COPY lakehouse ./lakehouse
COPY dbt_models ./dbt_models
COPY sources ./sources
COPY workspace.yaml ./
# The same set-up as the README's first command: venv, hashed pins, package, dbt manifest.
RUN scripts/setup \
 && useradd --system --uid 10001 --home-dir /opt/lakehouse lakehouse \
 && mkdir -p /data && chown -R lakehouse /data /opt/lakehouse/dbt_models
USER lakehouse

EXPOSE 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "lakehouse.definitions"]
