# The lakehouse code location as an image: a Dagster gRPC code server on port 4000.
# BASE is the production base; a build on a machine without registry access passes a local one
# (`--build-arg BASE=localhost/base`).
ARG BASE=python:3.11-slim
FROM ${BASE}

WORKDIR /opt/lakehouse
# The lake, the warehouse and the Dagster instance live on the /data volume; the code (dbt models
# included) is read-only to the user it runs as, who writes only dbt's target folder. Secrets (LAKEHOUSE_PII_KEY, LAKEHOUSE_VAULT_KEY) come from the environment at run time.
ENV LAKEHOUSE_PROJECT_DIR=/opt/lakehouse \
    LAKEHOUSE_DATA_DIR=/data \
    DAGSTER_HOME=/data/dagster_home \
    PATH=/opt/lakehouse/.venv/bin:$PATH

# scripts/setup installs the package (editable) and parses the dbt project, so the code comes first.
COPY requirements.lock requirements-bootstrap.lock pyproject.toml README.md ./
COPY scripts ./scripts
COPY lakehouse ./lakehouse
COPY dbt_models ./dbt_models
COPY sources ./sources
COPY deploy ./deploy
COPY workspace.yaml ./
# The same set-up as the README's first command: venv, hashed pins, package, dbt manifest.
RUN scripts/setup \
 && useradd --uid 10001 --no-create-home --home-dir /opt/lakehouse lakehouse \
 && mkdir -p /data && chown -R lakehouse /data /opt/lakehouse/dbt_models/target
USER lakehouse

EXPOSE 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "lakehouse.definitions"]
