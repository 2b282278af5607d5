package dev.runcible.core.lazy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.Digest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LazyLayersTest {
    @TempDir
    Path run;

    @Test
    void recordedReadsAreAPrefetchListForTheirChunkSizeOnly() throws Exception {
        LazyLayers layers = new LazyLayers(run);
        Digest layer = new Digest(Digest.SHA256, "a".repeat(64));
        Files.createDirectories(layers.directory());
        LazyLayers.writeReads(LazyLayers.readsRecord(layers.directory(), layer), 1 << 20, List.of(5, 0, 17));
        byte[] recorded = layers.recordedReads(layer).orElseThrow();
        assertThat(new String(recorded, StandardCharsets.US_ASCII))
                .isEqualTo("runcible-prefetch 1\nchunk-size 1048576\n5\n0\n17\n");
        assertThat(LazyLayers.parseReads(recorded, 1 << 20)).containsExactly(5, 0, 17);
        assertThat(LazyLayers.parseReads(recorded, 1 << 18)).as("made for other chunks").isEmpty();
        assertThat(LazyLayers.parseReads("junk".getBytes(StandardCharsets.US_ASCII), 1 << 20)).isEmpty();
        assertThat(layers.recordedLayers()).containsExactly(layer);
        assertThat(layers.progress()).as("no layer is being served").isEmpty();
    }

    @Test
    void onlyFilesUnderItsDirectoryAreItsFuseFiles() {
        LazyLayers layers = new LazyLayers(run);
        assertThat(layers.serves(run.resolve("lazy/" + "b".repeat(64) + "/mnt.12"))).isTrue();
        assertThat(layers.serves(Path.of("/var/lib/runcible/cache/layers/x.sqsh"))).isFalse();
    }
}
