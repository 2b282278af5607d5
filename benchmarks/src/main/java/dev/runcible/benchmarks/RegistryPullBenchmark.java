package dev.runcible.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.api.Descriptor;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageReference;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import dev.runcible.api.MediaTypes;
import dev.runcible.core.image.Json;
import dev.runcible.core.image.OciManifests;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Pull + convert of a multi-layer image from a local registry: {@code runcible pull} (download, verify, convert to
 * squashfs, layers concurrently, all streamed) against {@code skopeo copy} to an OCI directory followed by
 * {@code tar2sqfs} on each layer, the workflow Runcible replaces. Same machine, same registry, same compressor
 * settings, runs interleaved. Goal: ratio at most 0.8.
 *
 * <p>Usage: {@code bin/benchmark registry [--size-mb 200] [--layers 4] [--runs 3]}
 */
public final class RegistryPullBenchmark {
    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        int sizeMb = 200;
        int layers = 4;
        int runs = 3;
        boolean keep = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--size-mb" -> sizeMb = Integer.parseInt(args[++i]);
                case "--layers" -> layers = Integer.parseInt(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--keep" -> keep = true;
                default -> throw new IllegalArgumentException("Unknown option " + args[i]);
            }
        }
        Path home = Path.of(System.getProperty("runcible.home", ".")).toAbsolutePath().normalize();
        Path work = Files.createTempDirectory("runcible-bench-registry-");
        Path log = work.resolve("bench.log");
        Process registry = null;
        NodeAgent agent = null;
        try {
            int port = freePort();
            registry = startRegistry(work, port, log);
            String image = "127.0.0.1:" + port + "/bench/image:1";
            System.out.printf(Locale.ROOT, "Building a %d-layer image of about %d MB (gzip) ...%n", layers, sizeMb);
            Path layout = work.resolve("layout");
            long blobBytes = writeOciLayout(layout, sizeMb, layers);
            Measure.run(List.of("skopeo", "copy", "-q", "--dest-tls-verify=false", "oci:" + layout + ":bench",
                    "docker://" + image), log);
            Path config = Files.writeString(work.resolve("runcible.properties"), String.join("\n",
                    "runcible.image.tag-to-manifest=registry", "runcible.image.manifest-to-resources=registry",
                    "registry.insecure-registries=127.0.0.1:" + port, "runcible.run.dir=" + work.resolve("run"),
                    "squashfs.cache.dir=" + work.resolve("cache")) + "\n");
            int jobs = Runtime.getRuntime().availableProcessors();
            List<Double> ours = new ArrayList<>();
            List<Double> viaAgent = new ArrayList<>();
            List<Double> libraryCpu = new ArrayList<>();
            List<Double> referenceCpu = new ArrayList<>();
            List<Double> library = new ArrayList<>();
            List<Double> reference = new ArrayList<>();
            Map<String, String> settings = new HashMap<>();
            for (String line : Files.readAllLines(config)) {
                settings.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            }
            ImageReference reference0 = ImageReference.parse(image);
            try (Runcible runcible = Runcible.open(Settings.of(settings, Map.of()),
                    RegistryPullBenchmark.class.getClassLoader())) {
                // Library mode, as a scheduler embedding Runcible in its JVM uses it: one warm-up pull first.
                runcible.pull(reference0);
                for (int run = 0; run < runs; run++) {
                    delete(work.resolve("cache"));
                    long start = System.nanoTime();
                    double cpu = cpuSeconds();
                    runcible.pull(reference0);
                    library.add((System.nanoTime() - start) / 1e9);
                    libraryCpu.add(cpuSeconds() - cpu);
                }
            }
            // The CLI through a node agent (root only): the pull runs in the agent's warm JVM.
            List<String> pull = List.of(home.resolve("bin/runcible").toString(), "--config", config.toString(),
                    "pull", image);
            if ("root".equals(System.getProperty("user.name"))) {
                agent = NodeAgent.start(home, work.resolve("agent").resolve("agent.sock"), log);
                delete(work.resolve("cache"));
                agent.warmUp(pull, 1, log);
            }
            for (int run = 0; run < runs; run++) {
                delete(work.resolve("cache"));
                ours.add(Measure.seconds(pull, NodeAgent.none(work), log));
                if (agent != null) {
                    delete(work.resolve("cache"));
                    viaAgent.add(Measure.seconds(pull, agent.environment(), log));
                }
                Path copy = work.resolve("reference");
                delete(copy);
                long start = System.nanoTime();
                double cpu = cpuSeconds();
                Measure.run(List.of("skopeo", "copy", "-q", "--src-tls-verify=false", "docker://" + image,
                        "oci:" + copy + ":bench"), log);
                int n = 0;
                for (Path blob : layerBlobs(copy)) {
                    Path out = copy.resolve("layer-" + n++ + ".sqsh");
                    List<String> convert = List.of("sh", "-c", "tar2sqfs --quiet --force --no-skip --compressor zstd "
                            + "--comp-extra level=3 --num-jobs " + jobs + " '" + out + "' < '" + blob + "'");
                    Measure.run(convert, log);
                }
                reference.add((System.nanoTime() - start) / 1e9);
                referenceCpu.add(cpuSeconds() - cpu);
                System.out.printf(Locale.ROOT, "run %d: runcible pull %.2f s (with the agent %s), skopeo copy + "
                        + "tar2sqfs %.2f s%n", run + 1, ours.get(run), viaAgent.isEmpty() ? "-"
                        : String.format(Locale.ROOT, "%.2f s", viaAgent.get(run)), reference.get(run));
            }
            Measure.Summary a = Measure.summarize(ours);
            Measure.Summary b = Measure.summarize(reference);
            Measure.Summary c = Measure.summarize(library);
            double ratio = a.median() / b.median();
            double libraryRatio = c.median() / b.median();
            String report = """
                    # Registry pull + convert

                    %s, %d cores. Image: %d layers, %.1f MB of gzip blobs, served by docker-registry on 127.0.0.1.
                    Both sides write zstd level 3 squashfs with %d jobs; %d interleaved runs each, cold layer cache.

                    | | median (min–max) |
                    |---|---|
                    | `runcible pull` through the node agent | %s |
                    | `runcible pull` without an agent, a new JVM each time | %s |
                    | `Runcible.pull` in a warm JVM (library mode) | %s |
                    | `skopeo copy` + `tar2sqfs` per layer | %s |
                    | **ratio, CLI with the agent** (goal ≤ 0.8) | **%s** |
                    | ratio, CLI without an agent | %.2f |
                    | **ratio, library mode** (goal ≤ 0.70) | **%.2f** |
                    | CPU time (user + system, children included): library mode; reference | %.2f s; %.2f s |
                    | **ratio of CPU time, library mode / reference** (goal ≤ 0.70) | **%.2f** |
                    | … divided by the %d cores: the least wall time each could take | %.2f s; %.2f s |
                    """.formatted(LocalDate.now(), jobs, layers, blobBytes / 1e6, jobs, runs,
                    viaAgent.isEmpty() ? "not run (needs root)" : Measure.summarize(viaAgent).format(), a.format(),
                    c.format(), b.format(), viaAgent.isEmpty() ? "n/a" : String.format(Locale.ROOT, "%.2f",
                            Measure.summarize(viaAgent).median() / b.median()), ratio, libraryRatio,
                    Measure.summarize(libraryCpu).median(), Measure.summarize(referenceCpu).median(),
                    Measure.summarize(libraryCpu).median() / Measure.summarize(referenceCpu).median(), jobs,
                    Measure.summarize(libraryCpu).median() / jobs, Measure.summarize(referenceCpu).median() / jobs);
            System.out.println();
            System.out.println(report);
            Path results = home.resolve("benchmarks/results");
            Files.createDirectories(results);
            Files.writeString(results.resolve("registry-pull.md"), report);
            List<Results.Figure> figures = new ArrayList<>(List.of(
                    new Results.Figure("registry pull + convert, CLI without an agent / skopeo + tar2sqfs", ratio,
                            0.8, true, "x"),
                    new Results.Figure("registry pull + convert, library / skopeo + tar2sqfs", libraryRatio, 0.70,
                            true, "x"),
                    new Results.Figure("registry pull + convert, CPU time, library / skopeo + tar2sqfs",
                            Measure.summarize(libraryCpu).median() / Measure.summarize(referenceCpu).median(), 0.70,
                            true, "x")));
            if (!viaAgent.isEmpty()) {
                figures.add(new Results.Figure("registry pull + convert, CLI with the agent / skopeo + tar2sqfs",
                        Measure.summarize(viaAgent).median() / b.median(), 0.8, true, "x"));
            }
            Results.write(home, "registry-pull", figures);
            System.out.println("Written to " + results.resolve("registry-pull.md"));
        } finally {
            if (agent != null) {
                agent.close();
            }
            if (registry != null) {
                registry.destroy();
                registry.waitFor();
            }
            if (!keep) {
                delete(work);
            } else {
                System.out.println("Kept " + work);
            }
        }
    }

    private static List<Path> layerBlobs(Path layout) throws IOException {
        JsonNode index = Json.MAPPER.readTree(layout.resolve("index.json").toFile());
        String manifestDigest = index.path("manifests").get(0).path("digest").asText();
        JsonNode manifest = Json.MAPPER.readTree(blobPath(layout, manifestDigest).toFile());
        List<Path> blobs = new ArrayList<>();
        for (JsonNode layer : manifest.path("layers")) {
            blobs.add(blobPath(layout, layer.path("digest").asText()));
        }
        return blobs;
    }

    private static Path blobPath(Path layout, String digest) {
        return layout.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
    }

    /** Layers of many files, half random bytes and half text, like application images; returns blob bytes. */
    static long writeOciLayout(Path layout, int sizeMb, int layers) throws IOException {
        Path blobs = Files.createDirectories(layout.resolve("blobs/sha256"));
        Random random = new Random(7);
        long total = 0;
        List<Descriptor> layerDescriptors = new ArrayList<>();
        ArrayNode diffIds = Json.MAPPER.createArrayNode();
        long perLayer = (long) sizeMb * 1_000_000 / layers;
        for (int l = 0; l < layers; l++) {
            Path blob = blobs.resolve("tmp");
            try (OutputStream file = Files.newOutputStream(blob);
                    GZIPOutputStream gzip = new GZIPOutputStream(file, 1 << 16);
                    TarArchiveOutputStream tar = new TarArchiveOutputStream(gzip)) {
                long written = 0;
                for (int f = 0; Files.size(blob) < perLayer || written == 0; f++) {
                    byte[] content = new byte[64 * 1024];
                    if (f % 2 == 0) {
                        random.nextBytes(content);
                    } else {
                        byte[] line = ("line " + f + " of layer " + l + " with some repeated application text\n")
                                .getBytes(StandardCharsets.UTF_8);
                        for (int i = 0; i < content.length; i++) {
                            content[i] = line[i % line.length];
                        }
                    }
                    TarArchiveEntry entry = new TarArchiveEntry("layer" + l + "/dir" + (f / 100) + "/file" + f);
                    entry.setSize(content.length);
                    tar.putArchiveEntry(entry);
                    tar.write(content);
                    tar.closeArchiveEntry();
                    written += content.length;
                    if (f % 64 == 0) {
                        tar.flush();
                    }
                }
            }
            Digest digest = Digest.of(blob);
            Files.move(blob, blobs.resolve(digest.hex()));
            long size = Files.size(blobs.resolve(digest.hex()));
            total += size;
            layerDescriptors.add(new Descriptor(MediaTypes.OCI_LAYER_TAR_GZIP, digest, size));
            // The config's diff_id: the digest of the uncompressed tar.
            try (Digest.HashingInputStream tar = Digest.hashing(new java.util.zip.GZIPInputStream(
                    Files.newInputStream(blobs.resolve(digest.hex())), 1 << 16))) {
                tar.transferTo(OutputStream.nullOutputStream());
                diffIds.add(tar.digest().toString());
            }
        }
        ObjectNode config = Json.MAPPER.createObjectNode();
        config.put("architecture", "amd64");
        config.put("os", "linux");
        config.putObject("config").putArray("Cmd").add("/bin/true");
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        rootfs.set("diff_ids", diffIds);
        byte[] configBytes = Json.MAPPER.writeValueAsBytes(config);
        Digest configDigest = Digest.of(configBytes);
        Files.write(blobs.resolve(configDigest.hex()), configBytes);
        byte[] manifestBytes = OciManifests.manifest(new Descriptor(MediaTypes.OCI_CONFIG, configDigest,
                configBytes.length), layerDescriptors);
        Digest manifestDigest = Digest.of(manifestBytes);
        Files.write(blobs.resolve(manifestDigest.hex()), manifestBytes);
        ObjectNode index = Json.MAPPER.createObjectNode();
        index.put("schemaVersion", 2);
        ObjectNode entry = index.putArray("manifests").addObject();
        entry.put("mediaType", MediaTypes.OCI_MANIFEST);
        entry.put("digest", manifestDigest.toString());
        entry.put("size", manifestBytes.length);
        entry.putObject("annotations").put("org.opencontainers.image.ref.name", "bench");
        Files.write(layout.resolve("index.json"), Json.MAPPER.writeValueAsBytes(index));
        Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        return total;
    }

    static Process startRegistry(Path work, int port, Path log) throws Exception {
        Path config = Files.writeString(work.resolve("registry.yml"), """
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: 127.0.0.1:%d
                """.formatted(work.resolve("registry-data"), port));
        Process process = new ProcessBuilder("docker-registry", "serve", config.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        for (int i = 0; i < 200; i++) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 100);
                return process;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        process.destroy();
        throw new IllegalStateException("docker-registry did not start; see " + log);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /**
     * CPU seconds this JVM and its reaped children (tar2sqfs, skopeo) have used: utime, stime, cutime and cstime
     * from /proc/self/stat, in clock ticks of 1/100 s.
     */
    static double cpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // After the command name: state is field 3, so utime (14) .. cstime (17) sit at indexes 11..14.
        long ticks = 0;
        for (int i = 11; i <= 14; i++) {
            ticks += Long.parseLong(fields[i]);
        }
        return ticks / 100.0;
    }

    static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

}
