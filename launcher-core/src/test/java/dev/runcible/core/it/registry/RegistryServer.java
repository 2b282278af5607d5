package dev.runcible.core.it.registry;

import dev.runcible.core.host.Executables;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

/**
 * Debian's docker-registry (distribution v2) on 127.0.0.1 with its own config and storage, started for the tests.
 * Several servers may share one storage directory: images pushed through the plain one are served by the
 * TLS and token ones too.
 */
final class RegistryServer implements AutoCloseable {
    final int port;
    final Path storage;
    private final Process process;
    private final Path log;

    private RegistryServer(int port, Path storage, Process process, Path log) {
        this.port = port;
        this.storage = storage;
        this.process = process;
        this.log = log;
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Starts a registry; {@code extra} is YAML for the http.tls and auth sections, indented for the top level. */
    static RegistryServer start(Path dir, Path storage, String httpExtra, String extra) throws Exception {
        int port = freePort();
        Files.createDirectories(dir);
        Path config = dir.resolve("config-" + port + ".yml");
        Files.writeString(config, """
                version: 0.1
                log:
                  level: info
                storage:
                  filesystem:
                    rootdirectory: %s
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:%d
                %s
                %s
                """.formatted(storage, port, httpExtra, extra));
        Path log = dir.resolve("registry-" + port + ".log");
        String binary = Executables.find("docker-registry").orElseThrow(() -> new IllegalStateException(
                "docker-registry is not installed (apt-get install docker-registry)")).toString();
        Process process = new ProcessBuilder(binary, "serve", config.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        RegistryServer server = new RegistryServer(port, storage, process, log);
        long deadline = System.currentTimeMillis() + 20_000;
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return server;
            } catch (IOException e) {
                if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                    server.close();
                    throw new IllegalStateException("docker-registry did not start: " + Files.readString(log));
                }
                Thread.sleep(50);
            }
        }
    }

    String host() {
        return "127.0.0.1:" + port;
    }

    /** Pushes blobs and a manifest with plain HTTP (this server must have no auth). */
    void push(String repository, String reference, TestImage.Blob manifest, TestImage.Blob... blobs) throws Exception {
        HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(5)).build();
        String base = "http://" + host() + "/v2/" + repository;
        for (TestImage.Blob blob : blobs) {
            HttpResponse<String> start = http.send(HttpRequest.newBuilder(URI.create(base + "/blobs/uploads/"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            check(start, 202, "start upload");
            String location = start.headers().firstValue("Location").orElseThrow();
            URI upload = URI.create(base).resolve(location);
            String separator = upload.getQuery() == null ? "?" : "&";
            HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(upload + separator + "digest="
                    + blob.digest())).header("Content-Type", "application/octet-stream")
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(blob.bytes())).build(),
                    HttpResponse.BodyHandlers.ofString());
            check(put, 201, "upload " + blob.digest());
        }
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(base + "/manifests/" + reference))
                .header("Content-Type", manifest.mediaType())
                .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest.bytes())).build(),
                HttpResponse.BodyHandlers.ofString());
        check(put, 201, "put manifest " + reference);
    }

    private static void check(HttpResponse<String> response, int expected, String what) {
        if (response.statusCode() != expected) {
            throw new IllegalStateException(what + ": " + response.statusCode() + " " + response.body());
        }
    }

    /** The file the registry serves a blob from (filesystem driver layout). */
    Path blobData(dev.runcible.api.Digest digest) {
        return storage.resolve("docker/registry/v2/blobs/sha256").resolve(digest.hex().substring(0, 2))
                .resolve(digest.hex()).resolve("data");
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }

    static long countFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).count();
        }
    }
}
