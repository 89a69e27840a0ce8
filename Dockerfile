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
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV LODESTONE_ADDR=:8080 LODESTONE_DATA=/data LODESTONE_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["/lodestone", "healthcheck"]
ENTRYPOINT ["/lodestone"]
CMD ["serve"]
