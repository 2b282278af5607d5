package dev.runcible.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.Digest;
import dev.runcible.api.InvalidImageException;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkListTest {
    private static final int CHUNK = 64 << 10;

    private static byte[] bytes(int length) {
        byte[] bytes = new byte[length];
        new Random(length).nextBytes(bytes);
        return bytes;
    }

    @Test
    void hashesEveryChunkAndTheWholeFileAndReadsBackWhatItWrites() throws Exception {
        byte[] file = bytes(3 * CHUNK + 100);
        ChunkList chunks = ChunkList.compute(new ByteArrayInputStream(file), file.length, CHUNK);
        assertThat(chunks.chunks()).isEqualTo(4);
        assertThat(chunks.length(3)).isEqualTo(100);
        assertThat(chunks.offset(2)).isEqualTo(2L * CHUNK);
        assertThat(chunks.fileDigest()).isEqualTo(Digest.of(file));
        for (int i = 0; i < chunks.chunks(); i++) {
            assertThat(chunks.matches(i, Arrays.copyOfRange(file, (int) chunks.offset(i), file.length), 0)).isTrue();
        }
        byte[] damaged = file.clone();
        damaged[CHUNK + 5] ^= 1;
        assertThat(chunks.matches(1, damaged, CHUNK)).isFalse();
        assertThat(chunks.matches(0, damaged, 0)).as("other chunks are unaffected").isTrue();

        ChunkList parsed = ChunkList.parse(chunks.format(), "test");
        assertThat(parsed.format()).isEqualTo(chunks.format());
        assertThat(parsed.matches(1, damaged, CHUNK)).isFalse();
        assertThat(new String(chunks.format(), StandardCharsets.US_ASCII)).startsWith("runcible-chunks 1\nsize "
                + file.length + "\nchunk-size " + CHUNK + "\nfile " + Digest.of(file) + "\n");
    }

    @Test
    void anEmptyFileHasNoChunks() throws Exception {
        ChunkList chunks = ChunkList.compute(new ByteArrayInputStream(new byte[0]), 0, CHUNK);
        assertThat(chunks.chunks()).isZero();
        assertThat(ChunkList.parse(chunks.format(), "empty").chunks()).isZero();
    }

    @Test
    void aFileOfAnotherLengthThanGivenIsRefused() {
        byte[] file = bytes(CHUNK);
        assertThatThrownBy(() -> ChunkList.compute(new ByteArrayInputStream(file), CHUNK + 1, CHUNK))
                .isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> ChunkList.compute(new ByteArrayInputStream(file), CHUNK - 1, CHUNK))
                .hasMessageContaining("longer than");
        assertThatThrownBy(() -> ChunkList.compute(new ByteArrayInputStream(file), CHUNK, 1000))
                .hasMessageContaining("not a power of two");
    }

    @Test
    void aMalformedListIsATypedErrorNamingItAndTheFix() throws Exception {
        byte[] file = bytes(2 * CHUNK);
        String good = new String(ChunkList.compute(new ByteArrayInputStream(file), file.length, CHUNK).format(),
                StandardCharsets.US_ASCII);
        for (String bad : new String[] {"", "something else\n", good.replace("size " + file.length, "size x"),
                good.substring(0, good.lastIndexOf('\n', good.length() - 2) + 1),
                good.replace("chunk-size " + CHUNK, "chunk-size 1000"), good.replace("file sha256:", "file md5:"),
                good + "0".repeat(64) + "\n", good.replaceFirst("\n[0-9a-f]{64}\n", "\nxyz\n")}) {
            assertThatThrownBy(() -> ChunkList.parse(bad.getBytes(StandardCharsets.US_ASCII), "layers/x.chunks"))
                    .as(bad).isInstanceOf(InvalidImageException.class)
                    .hasMessageContaining("Chunk list layers/x.chunks is malformed")
                    .hasMessageContaining("runcible store index");
        }
    }
}
