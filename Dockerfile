# syntax=docker/dockerfile:1.7
# One image per service from this one file:
#
#   docker build --build-arg SERVICE=gateway \
#     --build-arg VERSION=1.2.3 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%FT%TZ)" --build-arg SOURCE=https://example.org/your/gas.git \
#     -t gas-gateway:1.2.3 .
#
# SERVICE is gateway, job, annotator, notification or archive. The build stage installs the
# workspace from the lock file and runs `pnpm build` (scripts/build.mjs), the build CI starts every
# service from (tests/e2e/production-bundle.test.ts); it does not depend on SERVICE, so building
# the five images builds it once. The runtime stage copies only dist/<SERVICE>/: the bundled
# service and the few npm packages it keeps external, with their production dependencies. No
# TypeScript, no tsx, no dev dependencies and no sources in the image. See docs/operations.md, "Images".

# The base image, pinned by its exact tag: the Node release CI tests with. For reproducible builds
# pin the digest too, after checking it lists both architectures
# (`docker buildx imagetools inspect node:20.20.2-bookworm-slim`), e.g.
#   --build-arg NODE_IMAGE=node:20.20.2-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0
# (the digest other projects pin for this tag; not checked here, where no registry is reachable).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
# The version of packageManager in package.json and of scripts/prerequisites.sh.
ARG PNPM_VERSION=12.4.2
RUN npm install --global "pnpm@${PNPM_VERSION}"
WORKDIR /src
# The dependencies alone first, so a change of source files reuses this layer: pnpm fetch reads only
# the lock file (and the patches it names) into the store, which a cache mount keeps between builds.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
COPY patches/ patches/
RUN --mount=type=cache,id=gas-pnpm-store,target=/pnpm-store \
    pnpm fetch --store-dir /pnpm-store
COPY . .
RUN --mount=type=cache,id=gas-pnpm-store,target=/pnpm-store \
    pnpm install --frozen-lockfile --offline --store-dir /pnpm-store
RUN pnpm build

FROM ${NODE_IMAGE} AS runtime
ARG NODE_IMAGE
ARG SERVICE
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=""
RUN case "${SERVICE}" in gateway|job|annotator|notification|archive) ;; \
      *) echo "build-arg SERVICE must be gateway, job, annotator, notification or archive (got '${SERVICE}')" >&2; exit 1 ;; esac
LABEL org.opencontainers.image.title="gas-${SERVICE}" \
      org.opencontainers.image.description="GAS, genome annotation service: the ${SERVICE} service" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
# tini as PID 1: it passes SIGTERM on to node (which drains and exits; node as PID 1 gets no default
# signal handling from the kernel) and reaps the zombies of anything node starts. Debian's package,
# from the base image's release. npm, corepack and yarn are not needed to run a bundle: removed, so
# the image carries fewer packages to patch.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
 && rm -f /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
# Owned by root and not writable by the service's user: the code cannot change at run time even
# where the root filesystem is writable.
COPY --from=build /src/dist/${SERVICE}/ /app/
# The process writes nothing under / itself. With a read-only root filesystem, mount an emptyDir at
# /tmp and writable volumes at the paths the service uses (the source tree's relative defaults,
# .gas/..., would point into /app):
#   annotator                       ANNOTATOR_REFERENCE_DIR (read-only is enough; docs/operations.md)
#   notification without SMTP_URL   NOTIFICATION_OUTBOX_DIR
#   any, with BLOB_STORE=filesystem BLOB_ROOT (a volume every service shares; S3 in production)
ENV NODE_ENV=production \
    HOME=/tmp \
    PATH=/app/bin:$PATH \
    ANNOTATOR_REFERENCE_DIR=/var/lib/gas/reference \
    NOTIFICATION_OUTBOX_DIR=/var/lib/gas/outbox \
    BLOB_ROOT=/var/lib/gas/blobs
# A numeric user and group, in no /etc/passwd: Kubernetes' runAsNonRoot can check a number, not a name.
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "/app/lib/main.mjs"]
