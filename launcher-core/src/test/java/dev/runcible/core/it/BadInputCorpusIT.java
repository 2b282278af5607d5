package dev.runcible.core.it;

import dev.runcible.api.Digest;
import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.core.host.Commands;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input corpus (src/test/resources/bad-input/corpus.tsv, see its README): every case through the real CLI
 * on a real node, each giving exit 125 and one error line naming the problem, and leaving nothing behind.
 */
class BadInputCorpusIT {
    private static RealNode node;
    private static int cases;
    private static long loopDevices;
    private static long cgroups;
    private static String goodManifest;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        loopDevices = loopDeviceCount();
        cgroups = cgroupCount();
        goodManifest = Files.readString(node.store.resolve("image-tag-to-hash")).strip().replaceAll(".*:", "");
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    static Stream<Arguments> corpus() throws IOException {
        try (InputStream in = BadInputCorpusIT.class.getResourceAsStream("/bad-input/corpus.tsv")) {
            List<Arguments> rows = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isEmpty()) {
                    String[] parts = line.split("\t", -1);
                    rows.add(Arguments.of(parts[0], parts[1], parts[2]));
                }
            }
            assertThat(rows).hasSizeGreaterThanOrEqualTo(100);
            return rows.stream();
        }
    }

    @org.junit.jupiter.api.AfterEach
    void removeAnythingAFailedCaseStarted() throws Exception {
        try (var runcible = node.open(Map.of())) {
            for (var info : runcible.containers().list()) {
                runcible.containers().remove(info.record().id(), true);
            }
        }
    }

    @ParameterizedTest(name = "[{index}] {0}: {1}")
    @MethodSource("corpus")
    void isRefusedWithItsErrorAndLeavesNothingBehind(String category, String input, String expected)
            throws Exception {
        int n = ++cases;
        Path caseDir = Files.createDirectories(node.base.resolve("case-" + n));
        Path cache = caseDir.resolve("cache");
        Path store = caseDir.resolve("store");
        Map<String, String> settings = new HashMap<>(Map.of("squashfs.cache.dir", cache.toString(),
                "local.root", store.toString()));
        RealNode.copyTree(node.store, store);
        Files.createDirectories(cache);
        String image = RealNode.IMAGE;
        List<String> args = new ArrayList<>(List.of("run"));
        String extraLine = null;
        switch (category) {
            case "reference" -> image = input;
            case "digest" -> image = "app@" + input;
            case "memory", "cpu", "pids", "name", "env", "user", "network" ->
                    args.addAll(List.of("--" + category, input));
            case "mount" -> args.addAll(List.of("--mount", input.replace("${RUN}", node.runDir.toString())
                    .replace("${STORE}", store.toString()).replace("${CACHE}", cache.toString())
                    .replace("${CONFIG}", node.base.resolve("config").toString())
                    .replace("${BASE}", node.base.toString())));
            case "signal" -> args = new ArrayList<>(List.of("kill", "--signal", input, "nobody"));
            case "tagline" -> {
                Files.writeString(store.resolve("image-tag-to-hash"), input + "\n", StandardOpenOption.APPEND);
                image = "bad/x:1";
            }
            case "manifest" -> {
                tag(store, putManifest(store, input.getBytes(StandardCharsets.UTF_8)));
                image = "bad/x:1";
            }
            case "config" -> {
                byte[] config = input.getBytes(StandardCharsets.UTF_8);
                String hex = Digest.of(config).hex();
                Files.write(store.resolve("config").resolve(hex), config);
                String manifest = Files.readString(store.resolve("manifests").resolve(goodManifest))
                        .replaceAll("\"config\"\\s*:\\s*\\{[^}]*}", "\"config\":{\"mediaType\":"
                                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" + hex
                                + "\",\"size\":" + config.length + "}");
                tag(store, putManifest(store, manifest.getBytes(StandardCharsets.UTF_8)));
                image = "bad/x:1";
            }
            case "setting" -> extraLine = input;
            case "store" -> damage(store, input);
            default -> throw new IllegalArgumentException("Unknown corpus category " + category);
        }
        if (args.get(0).equals("run")) {
            args.add(image);
            if (!category.equals("config")) {
                args.addAll(List.of("--", "true")); // a config case's command is the image's own
            }
        }
        Path config = node.configFile("case-" + n, settings);
        if (extraLine != null) {
            Files.writeString(config, extraLine + "\n", StandardOpenOption.APPEND);
        }
        Cli cli = Cli.run(config, args.toArray(String[]::new));

        assertThat(cli.exitCode()).as(cli.err()).isEqualTo(125);
        List<String> errors = cli.err().lines().filter(l -> l.startsWith("runcible: ")).toList();
        assertThat(errors).as(cli.err()).hasSize(1);
        assertThat(errors.get(0)).contains(expected);
        assertThat(cli.err()).doesNotContain("\tat ");
        node.assertNothingLeftRunning();
        assertThat(loopDeviceCount()).as("loop devices").isEqualTo(loopDevices);
        assertThat(cgroupCount()).as("container cgroups").isEqualTo(cgroups);
        // No poisoned cache entry: a cached layer matches its recorded digest, and a damaged one is never cached.
        List<Path> cached = List.of();
        if (Files.isDirectory(cache.resolve("layers"))) {
            try (Stream<Path> layers = Files.list(cache.resolve("layers"))) {
                cached = layers.filter(p -> p.toString().endsWith(".sqsh")).toList();
            }
        }
        for (Path layer : cached) {
            String recorded = Files.readString(layer.resolveSibling(layer.getFileName() + ".sha256")).split(" ")[0];
            assertThat(Digest.of(layer).hex()).as("cached " + layer).isEqualTo(recorded);
        }
        if (category.equals("store") && input.contains("layer")) {
            assertThat(cached).as("the damaged layer is not cached").isEmpty();
        }
    }

    private static String putManifest(Path store, byte[] bytes) throws IOException {
        String hex = Digest.of(bytes).hex();
        Files.write(store.resolve("manifests").resolve(hex), bytes);
        return hex;
    }

    private static void tag(Path store, String hex) throws IOException {
        Files.writeString(store.resolve("image-tag-to-hash"), "bad/x:1:" + hex + "\n", StandardOpenOption.APPEND);
    }

    private static void damage(Path store, String how) throws IOException {
        Path layer;
        try (Stream<Path> files = Files.list(store.resolve("layers"))) {
            layer = files.filter(p -> p.toString().endsWith(".sqsh")).findFirst().orElseThrow();
        }
        Path record = layer.resolveSibling(layer.getFileName() + ".sha256");
        switch (how) {
            case "delete-layer" -> Files.delete(layer);
            case "truncate-layer" -> {
                Files.delete(record);
                try (RandomAccessFile file = new RandomAccessFile(layer.toFile(), "rw")) {
                    file.setLength(file.length() / 3);
                }
            }
            case "flip-layer" -> {
                try (RandomAccessFile file = new RandomAccessFile(layer.toFile(), "rw")) {
                    file.seek(file.length() / 2);
                    file.write(new byte[] {7, 7, 7});
                }
            }
            case "delete-manifest" -> Files.delete(store.resolve("manifests").resolve(goodManifest));
            case "delete-config" -> {
                try (Stream<Path> configs = Files.list(store.resolve("config"))) {
                    for (Path config : configs.toList()) {
                        Files.delete(config);
                    }
                }
            }
            case "garble-record" -> Files.writeString(record, "not a digest\n");
            case "fifo-manifest" -> fifo(store.resolve("manifests").resolve(goodManifest));
            case "fifo-tagfile" -> fifo(store.resolve("image-tag-to-hash"));
            case "zero-manifest" -> relink(store.resolve("manifests").resolve(goodManifest), Path.of("/dev/zero"));
            case "shadow-manifest" -> relink(store.resolve("manifests").resolve(goodManifest), Path.of("/etc/shadow"));
            case "huge-manifest" -> Files.write(store.resolve("manifests").resolve(goodManifest),
                    new byte[5 << 20]);
            case "device-layer" -> {
                Files.delete(record);
                relink(layer, aBlockDevice());
            }
            case "huge-env" -> {
                // The same image with a config whose Env holds 5000 entries, under its own digests.
                Path manifestFile = store.resolve("manifests").resolve(goodManifest);
                var manifest = (com.fasterxml.jackson.databind.node.ObjectNode) dev.runcible.core.image.Json.MAPPER
                        .readTree(manifestFile.toFile());
                String configHex = manifest.get("config").get("digest").asText().substring("sha256:".length());
                var image = (com.fasterxml.jackson.databind.node.ObjectNode) dev.runcible.core.image.Json.MAPPER
                        .readTree(store.resolve("config").resolve(configHex).toFile());
                var env = ((com.fasterxml.jackson.databind.node.ObjectNode) image.get("config")).putArray("Env");
                for (int i = 0; i < 5000; i++) {
                    env.add("V" + i + "=x");
                }
                byte[] config = dev.runcible.core.image.Json.MAPPER.writeValueAsBytes(image);
                String hex = Digest.of(config).hex();
                Files.write(store.resolve("config").resolve(hex), config);
                ((com.fasterxml.jackson.databind.node.ObjectNode) manifest.get("config")).put("digest", "sha256:" + hex)
                        .put("size", config.length);
                String newManifest = putManifest(store, dev.runcible.core.image.Json.MAPPER.writeValueAsBytes(manifest));
                Files.writeString(store.resolve("image-tag-to-hash"), RealNode.IMAGE + ":" + newManifest + "\n");
            }
            case "dir-config" -> {
                try (Stream<Path> configs = Files.list(store.resolve("config"))) {
                    for (Path config : configs.toList()) {
                        Files.delete(config);
                        Files.createDirectory(config);
                    }
                }
            }
            default -> throw new IllegalArgumentException(how);
        }
    }


    private static void fifo(Path path) throws IOException {
        Files.delete(path);
        assertThat(Commands.run(List.of("mkfifo", path.toString()), 10).ok()).isTrue();
    }

    private static void relink(Path path, Path target) throws IOException {
        Files.delete(path);
        Files.createSymbolicLink(path, target);
    }

    /** Some block device of this machine (a store entry must never lead to one). */
    private static Path aBlockDevice() throws IOException {
        try (Stream<Path> devices = Files.list(Path.of("/dev"))) {
            return devices.filter(p -> {
                try {
                    return ((Integer) Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS)
                            & 0170000) == 0060000;
                } catch (IOException e) {
                    return false;
                }
            }).findFirst().orElseThrow(() -> new IllegalStateException("no block device in /dev"));
        }
    }

    private static long loopDeviceCount() throws IOException {
        return Commands.run(List.of("losetup", "-a"), 10).stdout().lines().count();
    }

    private static long cgroupCount() throws IOException {
        Path parent = Path.of("/sys/fs/cgroup/memory/runcible");
        if (!Files.isDirectory(parent)) {
            return 0;
        }
        try (Stream<Path> children = Files.list(parent)) {
            return children.filter(Files::isDirectory).count();
        }
    }
}
