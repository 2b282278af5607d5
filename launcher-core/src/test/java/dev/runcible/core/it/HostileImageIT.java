package dev.runcible.core.it;

import dev.runcible.api.Digest;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.core.host.Commands;
import dev.runcible.core.image.Json;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Images built to exhaust the launcher: an environment of 200,000 entries, and an /etc/passwd that is a 2.25 GiB
 * sparse file. Each must give one clear error and leave nothing on the node.
 */
public class HostileImageIT {
    private static RealNode node;
    private static Path config;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        config = node.configFile("hostile", Map.of());
        hugeEnvironment();
        sparsePasswd();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    @AfterEach
    void nothingIsLeft() throws Exception {
        node.assertNothingLeftRunning();
        assertThat(Commands.run(List.of("losetup", "-a"), 10).stdout()).doesNotContain(node.base.toString());
    }

    /** The sample image again, named hostile/env:1, with 200,000 Env entries in its config. */
    private static void hugeEnvironment() throws Exception {
        Path store = node.store;
        String manifestHex = Files.readString(store.resolve("image-tag-to-hash")).strip().replaceAll(".*:", "");
        ObjectNode manifest = (ObjectNode) Json.MAPPER.readTree(store.resolve("manifests").resolve(manifestHex)
                .toFile());
        String configHex = manifest.get("config").get("digest").asText().substring("sha256:".length());
        ObjectNode image = (ObjectNode) Json.MAPPER.readTree(store.resolve("config").resolve(configHex).toFile());
        ArrayNode env = ((ObjectNode) image.get("config")).putArray("Env");
        for (int i = 0; i < 200_000; i++) {
            env.add("VAR" + i + "=value");
        }
        byte[] bytes = Json.MAPPER.writeValueAsBytes(image);
        String hex = Digest.of(bytes).hex();
        Files.write(store.resolve("config").resolve(hex), bytes);
        ObjectNode descriptor = (ObjectNode) manifest.get("config");
        descriptor.put("digest", "sha256:" + hex);
        descriptor.put("size", bytes.length);
        byte[] manifestBytes = Json.MAPPER.writeValueAsBytes(manifest);
        String newManifest = Digest.of(manifestBytes).hex();
        Files.write(store.resolve("manifests").resolve(newManifest), manifestBytes);
        Files.writeString(store.resolve("image-tag-to-hash"), "hostile/env:1:" + newManifest + "\n",
                StandardOpenOption.APPEND);
    }

    private static void sparsePasswd() throws Exception {
        sparsePasswdImage(node, "hostile/passwd:1");
    }

    /**
     * Imports into the node's store an image, running as {@code worker}, whose one layer holds a 2.25 GiB sparse
     * /etc/passwd. The layer is written by mksquashfs, as Storm's tools write layers, with no digest record.
     */
    public static void sparsePasswdImage(RealNode node, String name) throws Exception {
        node.importImage(name, List.of("USER worker", "CMD [\"true\"]"));
        Path sparseRoot = node.base.resolve("sparse-" + name.replaceAll("[^a-z0-9]", "_"));
        Path etc = Files.createDirectories(sparseRoot.resolve("etc"));
        Files.createDirectories(sparseRoot.resolve("bin"));
        Files.copy(RealNode.BUSYBOX, sparseRoot.resolve("bin/busybox"));
        try (RandomAccessFile passwd = new RandomAccessFile(etc.resolve("passwd").toFile(), "rw")) {
            passwd.setLength(2304L << 20);
        }
        String line = Files.readAllLines(node.store.resolve("image-tag-to-hash")).stream()
                .filter(l -> l.startsWith(name + ":")).findFirst().orElseThrow();
        ObjectNode manifest = (ObjectNode) Json.MAPPER.readTree(node.store.resolve("manifests")
                .resolve(line.substring(line.lastIndexOf(':') + 1)).toFile());
        String layerHex = manifest.get("layers").get(0).get("digest").asText().substring("sha256:".length());
        Path layer = node.store.resolve("layers").resolve(layerHex + ".sqsh");
        Files.delete(layer);
        Files.deleteIfExists(layer.resolveSibling(layerHex + ".sqsh.sha256")); // Storm's stores record none
        Commands.Result made = Commands.run(List.of("mksquashfs", sparseRoot.toString(), layer.toString(),
                "-noappend", "-quiet", "-no-progress"), 300);
        assertThat(made.ok()).as(made.message()).isTrue();
    }

    @Test
    void anImageWithTwoHundredThousandEnvEntriesIsRefusedBeforeAnythingStarts() {
        Cli cli = Cli.run(config, "run", "--rm", "hostile/env:1", "--", "true");
        assertThat(cli.exitCode()).isEqualTo(125);
        assertThat(cli.err().lines().toList()).hasSize(1);
        assertThat(cli.err()).contains("200000 Env entries").contains("above the limit of 4096 entries");
    }

    @Test
    void aSparsePasswdOfGigabytesGivesAClearErrorAndLeavesNoHalfMadeContainer() throws Exception {
        Cli cli = Cli.run(config, "run", "--rm", "hostile/passwd:1");
        assertThat(cli.exitCode()).isEqualTo(125);
        assertThat(cli.err().lines().toList()).as(cli.err()).hasSize(1);
        assertThat(cli.err()).contains("/etc/passwd is " + (2304L << 20) + " bytes")
                .doesNotContain("OutOfMemoryError").doesNotContain("\tat ");
        try (Stream<Path> dirs = Files.list(node.runDir.resolve("containers"))) {
            assertThat(dirs.toList()).isEmpty();
        }
        assertThat(new String(Files.readAllBytes(node.store.resolve("image-tag-to-hash")), StandardCharsets.UTF_8))
                .contains("hostile/passwd:1");
    }
}
