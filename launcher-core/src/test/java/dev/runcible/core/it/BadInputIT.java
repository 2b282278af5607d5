package dev.runcible.core.it;

import dev.runcible.api.Digest;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each bad input gives one line naming the bad value, a non-zero exit, and leaves nothing mounted, no container and
 * nothing in the cache. Every case runs against its own copy of the store and a cold cache.
 */
class BadInputIT {
    private static RealNode node;
    private static int cases;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    /** A damaged copy of the store, and a config using it with a fresh cache. */
    private static final class Case {
        final Path store;
        final Path cache;
        final Path config;

        Case(Map<String, String> overrides) throws IOException {
            int n = ++cases;
            store = node.base.resolve("store-" + n);
            cache = node.base.resolve("cache-" + n);
            RealNode.copyTree(node.store, store);
            Map<String, String> settings = new java.util.HashMap<>(Map.of("local.root", store.toString(),
                    "squashfs.cache.dir", cache.toString()));
            settings.putAll(overrides);
            config = node.configFile("case-" + n, settings);
        }

        Path onlyFile(String dir, String suffix) throws IOException {
            try (Stream<Path> files = Files.list(store.resolve(dir))) {
                return files.filter(p -> p.toString().endsWith(suffix)).findFirst().orElseThrow();
            }
        }

        Cli run(String... args) {
            return Cli.run(config, args);
        }

        void assertCleanFailure(Cli cli, String... expected) throws IOException {
            assertThat(cli.exitCode()).as(cli.err()).isEqualTo(125);
            // One error line; log warnings (a skipped tag line) may come before it, a stack trace never.
            assertThat(cli.err().lines().filter(l -> l.startsWith("runcible: "))).as(cli.err()).hasSize(1);
            assertThat(cli.err()).doesNotContain("\tat ").doesNotContain("Exception");
            for (String text : expected) {
                assertThat(cli.err()).contains(text);
            }
            assertThat(cli.out()).isEmpty();
            node.assertNothingLeftRunning();
            if (Files.isDirectory(cache)) {
                try (Stream<Path> files = Files.walk(cache)) {
                    assertThat(files.filter(Files::isRegularFile).filter(p -> !p.getParent().endsWith("locks"))
                            .filter(p -> !p.getParent().endsWith("config")))
                            .as("nothing but verified configs cached").isEmpty();
                }
            }
        }
    }


    @Test
    void unknownTag() throws Exception {
        Case c = new Case(Map.of());
        c.assertCleanFailure(c.run("run", "test/busybox:2"), "No image 'test/busybox:2'", c.store.toString());
    }

    @Test
    void malformedReference() throws Exception {
        Case c = new Case(Map.of());
        c.assertCleanFailure(c.run("run", "Test/BusyBox"), "Invalid image reference 'Test/BusyBox'", "lowercase");
    }

    @Test
    void malformedTagLineIsNamedWithItsNumberAndSkipped() throws Exception {
        Case c = new Case(Map.of());
        Path tags = c.store.resolve("image-tag-to-hash");
        Files.writeString(tags, "broken/image:1:not-a-hash\n", StandardOpenOption.APPEND);
        c.assertCleanFailure(c.run("run", "broken/image:1"), "No image 'broken/image:1'", "line 2",
                "'not-a-hash'");
        Cli good = c.run("run", "--rm", RealNode.IMAGE, "--", "true");
        assertThat(good.exitCode()).as("the good line still works: " + good.err()).isZero();
    }

    @Test
    void corruptManifest() throws Exception {
        Case c = new Case(Map.of());
        Path manifest = c.onlyFile("manifests", "");
        Files.writeString(manifest, "{\"schemaVersion\":2,\"tampered\":true}");
        c.assertCleanFailure(c.run("run", RealNode.IMAGE), "Manifest " + manifest + " is corrupt",
                "expected digest sha256:" + manifest.getFileName());
    }

    @Test
    void manifestThatIsNotJsonButHashesRight() throws Exception {
        Case c = new Case(Map.of());
        byte[] garbage = "this is not a manifest".getBytes(StandardCharsets.UTF_8);
        String hex = dev.runcible.api.Digest.of(garbage).hex();
        Files.write(c.store.resolve("manifests").resolve(hex), garbage);
        Files.writeString(c.store.resolve("image-tag-to-hash"), "garbage:1:" + hex + "\n",
                StandardOpenOption.APPEND);
        c.assertCleanFailure(c.run("run", "garbage:1"), "is not valid JSON");
    }

    @Test
    void missingLayerFile() throws Exception {
        Case c = new Case(Map.of());
        Path layer = c.onlyFile("layers", ".sqsh");
        Files.delete(layer);
        c.assertCleanFailure(c.run("run", RealNode.IMAGE), layer.toString(), "does not exist");
    }

    @Test
    void truncatedLayerFile() throws Exception {
        Case c = new Case(Map.of());
        Path layer = c.onlyFile("layers", ".sqsh");
        // Drop the squashfs digest record too, so the superblock check alone must notice.
        Files.delete(c.onlyFile("layers", ".sqsh.sha256"));
        try (RandomAccessFile file = new RandomAccessFile(layer.toFile(), "rw")) {
            file.setLength(file.length() / 2);
        }
        c.assertCleanFailure(c.run("run", RealNode.IMAGE), layer.toString(), "truncated");
    }

    @Test
    void layerFileWithWrongContent() throws Exception {
        Case c = new Case(Map.of());
        Path layer = c.onlyFile("layers", ".sqsh");
        try (RandomAccessFile file = new RandomAccessFile(layer.toFile(), "rw")) {
            file.seek(file.length() / 2);
            file.write(new byte[] {1, 2, 3, 4});
        }
        c.assertCleanFailure(c.run("run", RealNode.IMAGE), "Digest mismatch for layer", layer.toString());
    }

    @Test
    void imageOutsideTheAllowList() throws Exception {
        Case c = new Case(Map.of("runcible.allowed.images", "trusted/*,other/app"));
        c.assertCleanFailure(c.run("run", RealNode.IMAGE), "'test/busybox:1' is not allowed",
                "runcible.allowed.images");
    }

    @Test
    void invalidMemoryValue() throws Exception {
        Case c = new Case(Map.of());
        c.assertCleanFailure(c.run("run", "--memory", "12x", RealNode.IMAGE), "Invalid --memory value '12x'");
    }

    @Test
    void unknownConfigurationKeyAndPluginName() throws Exception {
        Case c = new Case(Map.of("runcible.image.localizer", "sqashfs", "runcible.run.dri", "/tmp/x"));
        c.assertCleanFailure(c.run("run", RealNode.IMAGE), "unknown key 'runcible.run.dri'",
                "names no localizer 'sqashfs'. Available: [squashfs]");
    }

    @Test
    void debugPrintsTheStackTrace() throws Exception {
        Case c = new Case(Map.of());
        Cli cli = Cli.run(c.config, "--debug", "run", "test/busybox:2");
        assertThat(cli.exitCode()).isEqualTo(125);
        assertThat(cli.err()).contains("ImageNotFoundException").contains("\tat ");
    }
}
