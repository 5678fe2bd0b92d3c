# The README's build steps in a container: build on bookworm, run on bookworm-slim
# (yaml-cpp, pugixml and SQLite are linked into the binary: CMakeLists.txt).
FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh --build-only
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCSRSIM_TESTS=OFF \
 && cmake --build build --target csr-simulator -j"$(nproc)"

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcpp-httplib0.11 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 csrsim \
 && install -d -o csrsim -g csrsim /var/lib/csr-simulator
COPY --from=build /src/build/csr-simulator /usr/local/bin/csr-simulator
COPY --from=build /src/scenarios /usr/local/share/csr-simulator/scenarios
USER csrsim
# --state /var/lib/csr-simulator/state.db keeps state on a volume (README.md, Durable state).
VOLUME /var/lib/csr-simulator
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=2s --retries=3 CMD curl -fsS http://127.0.0.1:8080/_sim/health || exit 1
ENTRYPOINT ["csr-simulator", "--host", "0.0.0.0", "--port", "8080"]
