package dev.runcible.core.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ManifestBlob;
import dev.runcible.api.RuncibleException;
import dev.runcible.store.TagFile;
import dev.runcible.core.config.Sizes;
import dev.runcible.core.image.ImageChanges;
import dev.runcible.core.image.ImageConfigParser;
import dev.runcible.core.image.ManifestParser;
import dev.runcible.core.runtime.BindMount;
import dev.runcible.core.runtime.Limits;
import java.util.List;

/**
 * Every parser of outside input, fuzzed with Jazzer: whatever the bytes, a parser answers with a value or with
 * its typed error ({@link RuncibleException}), never with another exception (a NullPointerException, an
 * index out of bounds, a NumberFormatException) that would reach a user as an internal error.
 *
 * <p>{@code mvn verify} runs {@link #anyParser} for 30 s with JAZZER_FUZZ=1 (see launcher-core's pom) and the
 * seed inputs otherwise. For a long run: {@code JAZZER_FUZZ=1 mvn -pl launcher-core -am test
 * -Dtest='ParsersFuzzTest#anyParserForAnHour' -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class ParsersFuzzTest {
    private static final Digest DIGEST = new Digest("sha256", "0".repeat(64));

    @FuzzTest(maxDuration = "30s")
    void anyParser(FuzzedDataProvider data) {
        parse(data);
    }

    @FuzzTest(maxDuration = "1h")
    void anyParserForAnHour(FuzzedDataProvider data) {
        parse(data);
    }

    private static void parse(FuzzedDataProvider data) {
        int which = data.consumeInt(0, 8);
        try {
            switch (which) {
                case 0 -> ImageReference.parse(data.consumeRemainingAsString());
                case 1 -> Digest.parse(data.consumeRemainingAsString());
                case 2 -> TagFile.parse(data.consumeRemainingAsString(), "fuzz");
                case 3 -> ManifestParser.parse(new ManifestBlob(DIGEST, data.consumeRemainingAsBytes(), "fuzz"));
                case 4 -> ImageConfigParser.parse(DIGEST, data.consumeRemainingAsBytes());
                case 5 -> BindMount.parse(data.consumeRemainingAsString());
                case 6 -> Sizes.parse(data.consumeRemainingAsString());
                case 7 -> ImageChanges.parse(List.of(data.consumeRemainingAsString()));
                default -> Limits.parse(data.consumeString(30), data.consumeInt(), data.consumeLong());
            }
        } catch (RuncibleException expected) {
            // a typed error is a right answer to bad input
        }
    }
}
