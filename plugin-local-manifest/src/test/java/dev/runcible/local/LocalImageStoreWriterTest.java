package dev.runcible.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.Digest;
import dev.runcible.api.TagFile;
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

class LocalImageStoreWriterTest {
    @TempDir
    Path root;

    @Test
    void writesTheStormLayoutReadOnlyAndReadableBack() throws Exception {
        LocalImageStoreWriter writer = new LocalImageStoreWriter(root);
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
        assertThat(new LocalImageStore(root).tags().byName()).containsEntry("app:1", manifest)
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
                new LocalImageStoreWriter(root).tag(List.of("app:" + n),
                        new Digest("sha256", String.format("%064x", n)));
                return null;
            }));
        }
        for (Future<?> future : futures) {
            future.get();
        }
        pool.shutdown();
        TagFile tags = new LocalImageStore(root).tags();
        assertThat(tags.problems()).isEmpty();
        assertThat(tags.byName()).hasSize(writers);
        for (int i = 0; i < writers; i++) {
            assertThat(tags.byName().get("app:" + i).hex()).isEqualTo(String.format("%064x", i));
        }
    }
}
