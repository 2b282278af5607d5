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
        PrefetchLists.write(PrefetchLists.record(layers.directory(), layer), 1 << 20, List.of(5, 0, 17));
        byte[] recorded = PrefetchLists.recordedReads(layers.directory(), layer).orElseThrow();
        assertThat(new String(recorded, StandardCharsets.US_ASCII))
                .isEqualTo("runcible-prefetch 1\nchunk-size 1048576\n5\n0\n17\n");
        assertThat(PrefetchLists.parse(recorded, 1 << 20)).containsExactly(5, 0, 17);
        assertThat(PrefetchLists.parse(recorded, 1 << 18)).as("made for other chunks").isEmpty();
        assertThat(PrefetchLists.parse("junk".getBytes(StandardCharsets.US_ASCII), 1 << 20)).isEmpty();
        assertThat(PrefetchLists.recorded(layers.directory())).containsExactly(layer);
        assertThat(layers.progress()).as("no layer is being served").isEmpty();
    }

    @Test
    void onlyFilesUnderItsDirectoryAreItsFuseFiles() {
        LazyLayers layers = new LazyLayers(run);
        assertThat(layers.serves(run.resolve("lazy/" + "b".repeat(64) + "/mnt.12"))).isTrue();
        assertThat(layers.serves(Path.of("/var/lib/runcible/cache/layers/x.sqsh"))).isFalse();
    }
}
