# Multi-stage build: compile in the Rust image, run as a non-root user in a slim
# Debian image with only the runtime libraries (libpq for PostgreSQL; SQLite is
# bundled into the binary).
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock diesel.toml ./
COPY src ./src
COPY migrations ./migrations
COPY tests ./tests
RUN cargo build --release --locked --bin sales-agent

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/sales-agent --create-home sales-agent
COPY --from=build /src/target/release/sales-agent /usr/local/bin/sales-agent
USER sales-agent
WORKDIR /var/lib/sales-agent
ENV SALES_AGENT_BIND=0.0.0.0:8080 \
    SALES_AGENT_LOG_FORMAT=json \
    DATABASE_URL=sqlite:///var/lib/sales-agent/data/sales-agent.db
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["sales-agent"]
CMD ["serve"]
