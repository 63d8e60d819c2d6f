# syntax=docker/dockerfile:1
#
# workmail-reconcile as a small, non-root container image with no shell:
#
#   docker build -t workmail-reconcile .
#   docker run --rm -v "$PWD/users:/users:ro" workmail-reconcile validate /users
#   docker run --rm -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN \
#     -v "$PWD/users:/users:ro" workmail-reconcile plan /users --detailed-exitcode
#
# Needs BuildKit (the default builder of Docker 23+ and of buildx) for the cache mounts.
# The image was written without a Docker engine at hand; see docs/recipes.md ("Container image").

# The toolchain the crate is developed and tested with (edition 2024 needs 1.85 or later).
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the registry and the dependency build between builds; the binary is copied
# out of the cached target directory because cache mounts are not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin workmail-reconcile \
    && cp target/release/workmail-reconcile /workmail-reconcile \
    && strip /workmail-reconcile

# glibc, libgcc and CA certificates; no shell, no package manager; runs as uid 65532 (nonroot).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /workmail-reconcile /workmail-reconcile
USER nonroot:nonroot
# The nonroot user's home: writable, so a relative --audit-log or --out works without a volume.
WORKDIR /home/nonroot
ENTRYPOINT ["/workmail-reconcile"]
CMD ["--help"]
