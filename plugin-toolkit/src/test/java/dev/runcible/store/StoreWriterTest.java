package dev.runcible.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.Digest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreWriterTest {
    @TempDir
    Path root;

    @Test
    void writesTheStormLayoutReadOnlyAndReadableBack() throws Exception {
        StoreWriter writer = new StoreWriter(new LocalStoreFileSystem(root, "local.root"));
        Digest manifest = new Digest("sha256", "1".repeat(64));
        Digest config = new Digest("sha256", "2".repeat(64));
        Digest layer = new Digest("sha256", "3".repeat(64));
        Digest squashfs = new Digest("sha256", "4".repeat(64));
        Path source = Files.writeString(root.resolve("source.sqsh"), "squashfs bytes");
        writer.putManifest(manifest, "{}".getBytes(StandardCharsets.UTF_8));
        writer.putConfig(config, "{\"c\":1}".getBytes(StandardCharsets.UTF_8));
        writer.putLayer(layer, source, squashfs);
        writer.tag(List.of("app:1", "app:latest"), manifest);

        assertThat(root.resolve("manifests/" + manifest.hex())).hasContent("{}");
        assertThat(root.resolve("config/" + config.hex())).hasContent("{\"c\":1}");
        assertThat(root.resolve("layers/" + layer.hex() + ".sqsh")).hasContent("squashfs bytes");
        assertThat(root.resolve("layers/" + layer.hex() + ".sqsh.sha256"))
                .hasContent(squashfs.hex() + "  " + layer.hex() + ".sqsh");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("layers/" + layer.hex()
                + ".sqsh")))).isEqualTo("r--r--r--");
        assertThat(new StoreReader(new LocalStoreFileSystem(root, "local.root"), 0).byName()).containsEntry("app:1", manifest)
                .containsEntry("app:latest", manifest);
        try (Stream<Path> files = Files.walk(root)) {
            assertThat(files.filter(p -> p.getFileName().toString().endsWith(".tmp"))).isEmpty();
        }
    }

    @Test
    void concurrentTaggingLosesNoLine() throws Exception {
        int writers = 16;
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            int n = i;
            // Separate writer instances, as separate import processes would have.
            futures.add(pool.submit(() -> {
                new StoreWriter(new LocalStoreFileSystem(root, "local.root")).tag(List.of("app:" + n),
                        new Digest("sha256", String.format("%064x", n)));
                return null;
            }));
        }
        for (Future<?> future : futures) {
            future.get();
        }
        pool.shutdown();
        StoreReader tags = new StoreReader(new LocalStoreFileSystem(root, "local.root"), 0);
        assertThat(tags.problems()).isEmpty();
        assertThat(tags.byName()).hasSize(writers);
        for (int i = 0; i < writers; i++) {
            assertThat(tags.byName().get("app:" + i).hex()).isEqualTo(String.format("%064x", i));
        }
    }

    @Test
    void anExistingLayerFileIsKeptAndGetsNoRecordOfOtherBytes() throws Exception {
        Digest layer = new Digest("sha256", "3".repeat(64));
        Path existing = root.resolve("layers/" + layer.hex() + ".sqsh");
        Files.createDirectories(existing.getParent());
        Files.writeString(existing, "written by mksquashfs");
        Path ours = Files.writeString(root.resolve("ours.sqsh"), "written by tar2sqfs");
        new StoreWriter(new LocalStoreFileSystem(root, "local.root")).putLayer(layer, ours,
                new Digest("sha256", "4".repeat(64)));
        assertThat(existing).hasContent("written by mksquashfs");
        assertThat(root.resolve("layers/" + layer.hex() + ".sqsh.sha256")).doesNotExist();
    }

    @Test
    void publishingNeverReplacesAFile() throws Exception {
        LocalStoreFileSystem store = new LocalStoreFileSystem(root, "local.root");
        assertThat(store.publish("config/x", "first".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(store.publish("config/x", "second".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(root.resolve("config/x")).hasContent("first");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("config/x"))))
                .isEqualTo("r--r--r--");
        try (Stream<Path> files = Files.list(root.resolve("config"))) {
            assertThat(files).containsExactly(root.resolve("config/x"));
        }
    }

    @Test
    void collectionDeletesOnlyWhatNoTagReaches() throws Exception {
        StoreWriter writer = new StoreWriter(new LocalStoreFileSystem(root, "local.root"));
        Digest kept = new Digest("sha256", "1".repeat(64));
        Digest config = new Digest("sha256", "2".repeat(64));
        Digest orphan = new Digest("sha256", "5".repeat(64));
        writer.putManifest(kept, ("{\"config\":{\"digest\":\"" + config + "\"}}").getBytes(StandardCharsets.UTF_8));
        writer.putConfig(config, "{}".getBytes(StandardCharsets.UTF_8));
        writer.putConfig(orphan, "{}".getBytes(StandardCharsets.UTF_8));
        writer.tag(List.of("app:1"), kept);
        var collected = writer.collect(java.time.Duration.ZERO);
        assertThat(collected.files()).isEqualTo(1);
        assertThat(root.resolve("config/" + orphan.hex())).doesNotExist();
        assertThat(root.resolve("config/" + config.hex())).exists();
        assertThat(root.resolve("manifests/" + kept.hex())).exists();
    }

    @Test
    void indexWritesChunkListsForLayersWithoutThemAndLeavesEveryOtherFileAlone() throws Exception {
        LocalStoreFileSystem store = new LocalStoreFileSystem(root, "local.root");
        Files.createDirectories(root.resolve("layers"));
        byte[] bytes = new byte[200_000];
        new java.util.Random(3).nextBytes(bytes);
        // As Storm's tools leave a layer: no record of its own.
        Digest stormLayer = new Digest("sha256", "5".repeat(64));
        Path storm = Files.write(root.resolve("layers/" + stormLayer.hex() + ".sqsh"), bytes);
        // A layer whose record disagrees with its bytes.
        Digest damagedLayer = new Digest("sha256", "6".repeat(64));
        Files.write(root.resolve("layers/" + damagedLayer.hex() + ".sqsh"), bytes);
        Files.writeString(root.resolve("layers/" + damagedLayer.hex() + ".sqsh.sha256"), "7".repeat(64) + "  x\n");
        long stormModified = Files.getLastModifiedTime(storm).toMillis();

        var indexed = new StoreWriter(store).index(64 << 10);
        assertThat(indexed.indexed()).isEqualTo(1);
        assertThat(indexed.problems()).singleElement().asString().contains(damagedLayer.hex())
                .contains("re-import");
        byte[] list = Files.readAllBytes(root.resolve("layers/" + stormLayer.hex() + ".sqsh.chunks"));
        ChunkList chunks = ChunkList.parse(list, "list");
        assertThat(chunks.chunks()).isEqualTo(4);
        assertThat(chunks.fileDigest()).isEqualTo(Digest.of(bytes));
        assertThat(root.resolve("layers/" + stormLayer.hex() + ".sqsh.chunks.sha256"))
                .hasContent(Digest.of(list).hex() + "  " + stormLayer.hex() + ".sqsh.chunks");
        assertThat(root.resolve("layers/" + stormLayer.hex() + ".sqsh.sha256"))
                .hasContent(Digest.of(bytes).hex() + "  " + stormLayer.hex() + ".sqsh");
        assertThat(Files.getLastModifiedTime(storm).toMillis()).isEqualTo(stormModified);
        assertThat(root.resolve("layers/" + damagedLayer.hex() + ".sqsh.chunks")).doesNotExist();

        var again = new StoreWriter(store).index(64 << 10);
        assertThat(again.indexed()).isZero();
        assertThat(again.present()).isEqualTo(1);
    }
}
