package dev.runcible.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.Digest;
import dev.runcible.api.TagRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TagFileTest {
    private static final String A = "a".repeat(64);
    private static final String B = "b".repeat(64);

    @Test
    void parsesStormLinesSplittingAtTheLastColon() {
        TagFile tags = TagFile.parse("""
                # written by docker-to-squash
                library/busybox:latest,busybox:latest:%s#the base image

                127.0.0.1:5000/app:1.0:%s
                """.formatted(A, B), "image-tag-to-hash");
        assertThat(tags.problems()).isEmpty();
        assertThat(tags.byName()).containsOnlyKeys("library/busybox:latest", "busybox:latest",
                "127.0.0.1:5000/app:1.0");
        assertThat(tags.byName().get("127.0.0.1:5000/app:1.0")).isEqualTo(new Digest("sha256", B));
        assertThat(tags.records()).hasSize(2);
        assertThat(tags.records().get(0).names()).containsExactly("library/busybox:latest", "busybox:latest");
    }

    @Test
    void laterLineWinsForARepeatedName() {
        TagFile tags = TagFile.parse("app:1:" + A + "\napp:1:" + B + "\n", "f");
        assertThat(tags.byName().get("app:1").hex()).isEqualTo(B);
    }

    @Test
    void toleratesCarriageReturnsTabsAndAMissingFinalNewline() {
        TagFile tags = TagFile.parse("\tone , two :" + A + " \r\n# only a comment: " + B + "\r\nthree:" + B, "f");
        assertThat(tags.problems()).isEmpty();
        assertThat(tags.records()).extracting(TagRecord::names)
                .containsExactly(java.util.List.of("one", "two"), java.util.List.of("three"));
        assertThat(tags.byName()).containsEntry("one", new Digest("sha256", A)).containsEntry("three",
                new Digest("sha256", B));
    }

    @Test
    void aCommentOnALaterLineDoesNotCutAnEarlierOne() {
        // The parser looks for '#' and ',' by index; neither may be taken from a line after the current one.
        TagFile tags = TagFile.parse("app:1:" + A + "\nx,y:" + B + "#note\n", "f");
        assertThat(tags.problems()).isEmpty();
        assertThat(tags.byName()).containsOnlyKeys("app:1", "x", "y");
        assertThat(tags.records().get(0).names()).containsExactly("app:1");
    }

    @Test
    void lookupsThroughTheIndexAgreeWithAPlainMapOverThousandsOfLines() {
        java.util.Random random = new java.util.Random(7);
        java.util.Map<String, String> expected = new java.util.HashMap<>();
        StringBuilder text = new StringBuilder();
        for (int line = 0; line < 20_000; line++) {
            // Few distinct names, so later lines move many of them, and the table grows several times.
            String first = "team" + random.nextInt(50) + "/app" + random.nextInt(400) + ":" + random.nextInt(3);
            String second = "app" + random.nextInt(5000);
            String hex = String.format("%064x", random.nextLong() & Long.MAX_VALUE);
            text.append(first).append(',').append(second).append(':').append(hex).append('\n');
            expected.put(first, hex);
            expected.put(second, hex);
        }
        TagFile tags = TagFile.parse(text.toString(), "f");
        assertThat(tags.problems()).isEmpty();
        assertThat(tags.nameCount()).isEqualTo(expected.size());
        expected.forEach((name, hex) -> assertThat(tags.manifestOf(name)).as(name).isEqualTo(new Digest("sha256", hex)));
        assertThat(tags.manifestOf("team1/app1:9")).isNull();
        assertThat(tags.manifestOf("app")).isNull();
        assertThat(tags.byName()).hasSize(expected.size()).containsAllEntriesOf(
                expected.entrySet().stream().collect(java.util.stream.Collectors.toMap(
                        java.util.Map.Entry::getKey, e -> new Digest("sha256", e.getValue()))));
        assertThat(tags.records()).hasSize(20_000);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
            "no-hash-here|has no ':<manifest hash>'",
            "app:1:abc|manifest hash 'abc' is not 64 lowercase hex digits",
            "app:1:" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" + "|is not 64 lowercase hex",
            "app:1:" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "|is not 64 lowercase hex",
            ":" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "|image name '' is empty",
            "a,,b:" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "|image name '' is empty",
            "my app:1:" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "|has white space",
    })
    void reportsABadLineWithItsNumberAndKeepsTheOthers(String badLine, String why) {
        TagFile tags = TagFile.parse("good:1:" + A + "\n" + badLine + "\nalso:good:" + B + "\n", "store/tags");
        assertThat(tags.problems()).singleElement().asString()
                .startsWith("store/tags line 2: ").contains(why);
        assertThat(tags.byName()).containsOnlyKeys("good:1", "also:good");
    }

    @Test
    void retagMovesNamesAndKeepsOtherLinesAndComments() {
        String before = "# header\nold:1,keep:1:" + A + "#note\nother:2:" + B + "\n";
        String after = TagText.retag(before, java.util.List.of("old:1", "new:1"), new Digest("sha256", B));
        assertThat(after).isEqualTo("# header\nkeep:1:" + A + "#note\nother:2:" + B + "\nold:1,new:1:" + B + "\n");
        TagFile parsed = TagFile.parse(after, "f");
        assertThat(parsed.problems()).isEmpty();
        assertThat(parsed.byName().get("old:1").hex()).isEqualTo(B);
        assertThat(parsed.byName().get("keep:1").hex()).isEqualTo(A);
    }

    @Test
    void retagDropsALineWhoseNamesAllMoved() {
        String after = TagText.retag("app:1:" + A + "\n", java.util.List.of("app:1"), new Digest("sha256", B));
        assertThat(after).isEqualTo("app:1:" + B + "\n");
    }
}
