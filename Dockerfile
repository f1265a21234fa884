# Image for every Airflow component of the distributed topology (docker-compose.yml).
# The project and its locked dependencies, nothing else.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    BLUEZONE_PROJECT_DIR=/opt/bluezone

RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /opt/bluezone
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src ./src
COPY dags ./dags
COPY dbt_project ./dbt_project
COPY seeds ./seeds
COPY expectations ./expectations
RUN uv sync --frozen --no-dev && python -m compileall -q src dags

RUN useradd --create-home --uid 50000 airflow && mkdir -p /opt/bluezone/data \
    && chown -R airflow /opt/bluezone/data
USER airflow
