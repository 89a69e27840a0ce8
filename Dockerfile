# Lodestone: a static binary on a distroless base, running as a non-root user.
#   docker build -t lodestone .
#   docker run -p 8080:8080 -v lodestone-data:/data lodestone
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/lodestone . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/lodestone /lodestone
# One static shell (busybox, nothing else of it on PATH) so that the health check can read
# LODESTONE_ADDR when it runs: `docker run -e LODESTONE_ADDR=:9090` moves the probe too.
COPY --from=busybox:1.36.1-musl /bin/busybox /bin/sh
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV LODESTONE_ADDR=:8080 LODESTONE_DATA=/data LODESTONE_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
# The probe asks the address the server listens on: LODESTONE_ADDR's port on loopback
# when it names no host or a wildcard (":8080", "0.0.0.0:8080", "[::]:8080"), else its host.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD host="${LODESTONE_ADDR%:*}"; case "$host" in ""|0.0.0.0|"[::]") host=127.0.0.1;; esac; \
      exec /lodestone healthcheck --url "http://$host:${LODESTONE_ADDR##*:}"
ENTRYPOINT ["/lodestone"]
CMD ["serve"]
