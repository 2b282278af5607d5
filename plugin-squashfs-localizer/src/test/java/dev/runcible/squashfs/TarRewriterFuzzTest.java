package dev.runcible.squashfs;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.runcible.api.InvalidImageException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The tar rewriter fuzzed with Jazzer: any bytes end in a rewritten stream, an I/O error (a truncated or broken
 * tar) or a typed image error, never another exception. {@code mvn verify} fuzzes it for 20 s (JAZZER_FUZZ=1, see
 * this module's pom).
 */
class TarRewriterFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void rewritesOrRefuses(byte[] tar) {
        try {
            new TarStreamRewriter("fuzz").rewrite(new ByteArrayInputStream(tar), OutputStream.nullOutputStream());
        } catch (IOException | InvalidImageException expected) {
            // refusing a bad tar is right
        }
    }
}
