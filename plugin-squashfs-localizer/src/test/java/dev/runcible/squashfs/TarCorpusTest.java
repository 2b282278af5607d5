package dev.runcible.squashfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.Digest;
import dev.runcible.api.OciResource;
import dev.runcible.api.PluginConfig;
import dev.runcible.api.PluginContext;
import dev.runcible.api.ResourceFetcher;
import dev.runcible.api.RuncibleException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile tar layers, each through the cache's conversion with the real tar2sqfs: each is refused with a typed
 * error naming the problem, and nothing reaches the cache (no layer, no record, no leftover download).
 */
class TarCorpusTest {
    @TempDir
    Path cacheDir;

    @BeforeAll
    static void needsTar2sqfs() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(TarLayerConverter.locate("tar2sqfs"))
                || "1".equals(System.getenv("RUNCIBLE_REQUIRE_ROOT_TESTS")), "tar2sqfs is not installed");
    }

    /** A tar header whose size field claims 8 EiB (base-256), followed by one block of data. */
    static byte[] absurdSize() throws Exception {
        byte[] tar = new Layers().file("big", "x").tar();
        tar[124] = (byte) 0x80;
        Arrays.fill(tar, 125, 136, (byte) 0x7f);
        fixChecksum(tar);
        return tar;
    }

    /** A tar cut off in the middle of a file's data. */
    static byte[] truncated() throws Exception {
        byte[] tar = new Layers().file("data", "y".repeat(4000)).tar();
        return Arrays.copyOf(tar, 512 + 1000);
    }

    static byte[] badOctal() throws Exception {
        byte[] tar = new Layers().file("f", "z").tar();
        tar[124] = '9';
        fixChecksum(tar);
        return tar;
    }

    static void fixChecksum(byte[] tar) {
        Arrays.fill(tar, 148, 156, (byte) ' ');
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += tar[i] & 0xff;
        }
        byte[] text = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, tar, 148, 6);
        tar[154] = 0;
        tar[155] = ' ';
    }

    static Stream<Arguments> hostileLayers() throws Exception {
        String deep = "d/" + "x".repeat(120);
        return Stream.of(
                Arguments.of("dot-dot in a path", new Layers().file("../evil", "x").tar(), "escapes the root"),
                Arguments.of("dot-dot inside a path", new Layers().file("a/../../evil", "x").tar(), "escapes the root"),
                Arguments.of("dot-dot in a long pax path", new Layers().file(deep + "/../../../evil", "x").tar(),
                        "escapes the root"),
                Arguments.of("dot-dot in a GNU long name", Layers.gnu().file(deep + "/../../../../evil", "x").tar(),
                        "escapes the root"),
                Arguments.of("hard link out of the root", new Layers().hardlink("shadow", "../../etc/shadow").tar(),
                        "hard link target of 'shadow'"),
                Arguments.of("hard link via dot-dot", new Layers().hardlink("x", "a/../../y").tar(), "escapes the root"),
                Arguments.of("whiteout naming nothing", new Layers().file("dir/.wh.", "").tar(), "names no file"),
                Arguments.of("whiteout of dot-dot", new Layers().file("dir/.wh...", "").tar(), "names no file"),
                Arguments.of("root as a file", new Layers().file(".", "x").tar(), "for its root directory"),
                Arguments.of("write through a symlink", new Layers().symlink("link", "/etc").file("link/passwd", "x")
                        .tar(), "tar2sqfs could not convert"),
                Arguments.of("absurd size", absurdSize(), "truncated tar data"),
                Arguments.of("truncated data", truncated(), "truncated tar data"),
                Arguments.of("bad octal size", badOctal(), "bad octal number"),
                Arguments.of("bad checksum", Layers.corruptChecksum(), "bad header checksum"),
                Arguments.of("not a tar at all", "this is not a tar archive, just words".repeat(20)
                        .getBytes(StandardCharsets.UTF_8), "bad header checksum"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileLayers")
    void isRefusedAndNothingIsCached(String name, byte[] tar, String why) throws Exception {
        Digest digest = SquashfsCacheTest.sha256(tar);
        ResourceFetcher fetcher = location -> new ByteArrayInputStream(tar);
        SquashfsCache cache = new SquashfsCache(cacheDir, new PluginContext() {
            @Override
            public PluginConfig config() {
                throw new UnsupportedOperationException();
            }

            @Override
            public ResourceFetcher fetcher(String scheme) {
                return fetcher;
            }
        }, new TarLayerConverter(TarLayerConverter.locate("tar2sqfs").toString()));
        OciResource layer = new OciResource(digest, "application/vnd.oci.image.layer.v1.tar", OciResource.Kind.LAYER,
                OciResource.Format.TAR, java.net.URI.create("mem:/layer.tar"), Optional.of(digest),
                OptionalLong.of(tar.length));
        assertThatThrownBy(() -> cache.localize(layer)).isInstanceOf(RuncibleException.class)
                .hasMessageContaining(why);
        try (Stream<Path> files = Files.walk(cacheDir)) {
            assertThat(files.filter(Files::isRegularFile).filter(p -> !p.getParent().endsWith("locks")))
                    .as("nothing cached for " + name).isEmpty();
        }
    }
}
