# Valuechain web app (and, once the task queue lands, its worker) on Python 3.11.
# Not built or run in this project's CI: the development machines have no Docker
# engine. Kept minimal so it is easy to check by reading.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 valuechain
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip install .

USER valuechain
EXPOSE 8000
# Migrations run on first use; several containers may start at once (PostgreSQL
# serialises the first migration with an advisory lock).
CMD ["valuechain", "serve", "--host", "0.0.0.0", "--port", "8000"]
