package dev.runcible.squashfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.Digest;
import dev.runcible.api.DigestMismatchException;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.OciResource;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Converts with the real tar2sqfs and reads the result back with rdsquashfs (squashfs-tools-ng). */
class TarLayerConverterTest {
    @TempDir
    Path dir;

    private final TarLayerConverter converter = new TarLayerConverter(TarLayerConverter.locate("tar2sqfs").toString());

    @BeforeAll
    static void needsTools() {
        boolean present = Files.isExecutable(TarLayerConverter.locate("tar2sqfs"))
                && Files.isExecutable(TarLayerConverter.locate("rdsquashfs"));
        if (!present && "1".equals(System.getenv("RUNCIBLE_REQUIRE_ROOT_TESTS"))) {
            throw new AssertionError("tar2sqfs and rdsquashfs are needed (apt-get install squashfs-tools-ng)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(present, "squashfs-tools-ng is not installed");
    }

    private static String run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as(out).isZero();
        return out;
    }

    private Path convert(byte[] layer, OciResource.Format format, Optional<Digest> expected) throws Exception {
        Path out = dir.resolve("layer.sqsh");
        TarLayerConverter.Converted converted = converter.convert(new ByteArrayInputStream(layer), format, out,
                "sha256:test", expected);
        assertThat(converted.size()).isEqualTo(layer.length);
        assertThat(converted.digest()).isEqualTo(SquashfsCacheTest.sha256(layer));
        return out;
    }

    @Test
    void rewritesWhiteoutsAndOpaqueDirectoriesForOverlay() throws Exception {
        byte[] layer = Layers.sample().gzip();
        Path squashfs = convert(layer, OciResource.Format.TAR_GZIP, Optional.of(SquashfsCacheTest.sha256(layer)));
        List<String> listing = run("rdsquashfs", "-d", squashfs.toString()).lines().toList();
        assertThat(listing).contains("nod etc/gone 00 0 0 c 0 0", "file etc/keep 0644 0 0", "file opt/new 0644 0 0",
                "slink link 0777 0 0 /etc/keep", "file dotted/deep/file 0644 0 0");
        assertThat(listing).noneMatch(line -> line.contains(".wh."));
        assertThat(run("rdsquashfs", "-x", "opt", squashfs.toString())).contains("trusted.overlay.opaque=y");
        assertThat(run("rdsquashfs", "-x", "etc", squashfs.toString())).doesNotContain("opaque");
        assertThat(run("rdsquashfs", "-x", "etc/keep", squashfs.toString())).contains("user.origin=test");
        assertThat(run("rdsquashfs", "-c", "etc/hard", squashfs.toString())).isEqualTo("kept\n");
        assertThat(SquashfsSuperblock.check(squashfs)).isNull();
    }

    @Test
    void readsPlainAndZstdTars() throws Exception {
        byte[] tar = new Layers().dir("a").file("a/b", "plain").tar();
        assertThat(run("rdsquashfs", "-c", "a/b", convert(tar, OciResource.Format.TAR, Optional.empty())
                .toString())).isEqualTo("plain");
        ByteArrayOutputStream zstd = new ByteArrayOutputStream();
        try (ZstdCompressorOutputStream out = new ZstdCompressorOutputStream(zstd)) {
            out.write(new Layers().file("z", "zstd").tar());
        }
        assertThat(run("rdsquashfs", "-c", "z", convert(zstd.toByteArray(), OciResource.Format.TAR_ZSTD,
                Optional.empty()).toString())).isEqualTo("zstd");
    }

    @Test
    void keepsLongNamesAndMergesTheOpaqueXattrIntoADirectorysOwnPaxRecords() throws Exception {
        String deep = "d/" + "x".repeat(120);
        byte[] pax = new Layers().dirWithXattr("tagged", "user.keep", "me").file("tagged/.wh..wh..opq", "")
                .file(deep + "/.wh." + "y".repeat(110), "").file(deep + "/z", "long").tar();
        Path squashfs = convert(pax, OciResource.Format.TAR, Optional.empty());
        String xattrs = run("rdsquashfs", "-x", "tagged", squashfs.toString());
        assertThat(xattrs).contains("trusted.overlay.opaque=y").contains("user.keep=me");
        assertThat(run("rdsquashfs", "-d", squashfs.toString()).lines())
                .contains("nod " + deep + "/" + "y".repeat(110) + " 00 0 0 c 0 0")
                .anyMatch(line -> line.startsWith("file " + deep + "/z"));
        byte[] gnu = Layers.gnu().file(deep + "/.wh.gone", "").file(deep + "/kept", "k").tar();
        assertThat(run("rdsquashfs", "-d", convert(gnu, OciResource.Format.TAR, Optional.empty()).toString())
                .lines()).contains("nod " + deep + "/gone 00 0 0 c 0 0");
    }

    /** A pax record as bytes: the value may be binary, as an xattr's is. */
    private static byte[] paxRecord(String key, byte[] value) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes((" " + key + "=").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(value);
        body.write('\n');
        int length = body.size() + 1;
        while (Integer.toString(length).length() + body.size() != length) {
            length = Integer.toString(length).length() + body.size();
        }
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.writeBytes(Integer.toString(length).getBytes(StandardCharsets.US_ASCII));
        record.writeBytes(body.toByteArray());
        return record.toByteArray();
    }

    @Test
    void dropsEveryOverlayXattrALayerCarriesAndKeepsFileCapabilitiesByteForByte() throws Exception {
        // cap_setuid,cap_net_bind_service+p as the kernel stores it (VFS_CAP_REVISION_2): a byte above 0x7f.
        byte[] capability = {1, 0, 0, 2, (byte) 0x80, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        ByteArrayOutputStream fileRecords = new ByteArrayOutputStream();
        fileRecords.writeBytes(paxRecord("SCHILY.xattr.security.capability", capability));
        fileRecords.writeBytes(paxRecord("SCHILY.xattr.trusted.overlay.redirect", "/etc/shadow".getBytes(
                StandardCharsets.US_ASCII)));
        fileRecords.writeBytes(paxRecord("SCHILY.xattr.trusted.overlay.metacopy", new byte[0]));
        fileRecords.writeBytes(paxRecord("SCHILY.xattr.trusted.overlay.origin", new byte[] {0, (byte) 0xfb, 1}));
        byte[] dirRecords = paxRecord("SCHILY.xattr.trusted.overlay.opaque", "y".getBytes(StandardCharsets.US_ASCII));
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (var out = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(tar)) {
            var global = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("PaxHeaders/global",
                    (byte) 'g');
            global.addPaxHeader("SCHILY.xattr.trusted.overlay.upper", "x");
            out.putArchiveEntry(global); // commons-compress writes a global header's records itself, and closes it
            rawEntry(out, "PaxHeaders/dir", (byte) 'x', dirRecords);
            var dirEntry = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("claims-opaque/");
            out.putArchiveEntry(dirEntry);
            out.closeArchiveEntry();
            rawEntry(out, "PaxHeaders/ping", (byte) 'x', fileRecords.toByteArray());
            var file = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("bin/ping");
            file.setSize(4);
            file.setMode(0755);
            out.putArchiveEntry(file);
            out.write("ping".getBytes(StandardCharsets.US_ASCII));
            out.closeArchiveEntry();
        }
        Path squashfs = convert(tar.toByteArray(), OciResource.Format.TAR, Optional.empty());
        String fileXattrs = run("rdsquashfs", "-x", "bin/ping", squashfs.toString());
        assertThat(fileXattrs).contains("security.capability=0x0100000280040000000000000000000000000000")
                .doesNotContain("trusted.overlay");
        assertThat(run("rdsquashfs", "-x", "claims-opaque", squashfs.toString())).doesNotContain("trusted.overlay");
        assertThat(run("rdsquashfs", "-c", "bin/ping", squashfs.toString())).isEqualTo("ping");
    }

    private static void rawEntry(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream out, String name,
            byte type, byte[] data) throws Exception {
        var entry = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name, type);
        entry.setSize(data.length);
        out.putArchiveEntry(entry);
        out.write(data);
        out.closeArchiveEntry();
    }

    @Test
    void rejectsAHeaderWithABadChecksum() throws Exception {
        byte[] tar = new Layers().file("a", "x").tar();
        tar[0] = 'b'; // the name changes, the stored checksum does not
        assertThatThrownBy(() -> convert(tar, OciResource.Format.TAR, Optional.empty()))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining("bad header checksum");
    }

    @Test
    void rejectsEntriesThatEscapeTheRoot() throws Exception {
        byte[] escaping = new Layers().file("etc/../../evil", "x").tar();
        assertThatThrownBy(() -> convert(escaping, OciResource.Format.TAR, Optional.empty()))
                .isInstanceOf(InvalidImageException.class)
                .hasMessageContaining("'etc/../../evil' that escapes the root");
        byte[] hardlink = new Layers().hardlink("shadow", "../../etc/shadow").tar();
        assertThatThrownBy(() -> convert(hardlink, OciResource.Format.TAR, Optional.empty()))
                .isInstanceOf(InvalidImageException.class)
                .hasMessageContaining("hard link target of 'shadow' '../../etc/shadow' that escapes the root");
    }

    @Test
    void damagedContentIsReportedAsADigestMismatchNotAsAParseError() throws Exception {
        byte[] good = Layers.sample().gzip();
        byte[] damaged = good.clone();
        for (int i = 20; i < damaged.length - 20; i++) {
            damaged[i] ^= 0x5a;
        }
        Digest expected = SquashfsCacheTest.sha256(good);
        assertThatThrownBy(() -> convert(damaged, OciResource.Format.TAR_GZIP, Optional.of(expected)))
                .isInstanceOf(DigestMismatchException.class)
                .hasMessageContaining("expected " + expected)
                .hasMessageContaining("got " + SquashfsCacheTest.sha256(damaged));
        assertThatThrownBy(() -> convert("not gzip".getBytes(), OciResource.Format.TAR_GZIP, Optional.empty()))
                .isInstanceOf(InvalidImageException.class).hasMessageContaining("Cannot convert sha256:test");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(TarLayerConverter.Compression.class)
    void writesTheConfiguredCompressor(TarLayerConverter.Compression compression) throws Exception {
        byte[] layer = Layers.sample().gzip();
        Path out = dir.resolve("layer-" + compression.key() + ".sqsh");
        new TarLayerConverter(TarLayerConverter.locate("tar2sqfs").toString(), compression).convert(
                new ByteArrayInputStream(layer), OciResource.Format.TAR_GZIP, out, "sha256:test", Optional.empty());
        // The superblock names its compressor at offset 20: 1 gzip, 4 xz, 5 lz4, 6 zstd.
        byte[] superblock = Files.readAllBytes(out);
        int id = (superblock[20] & 0xff) | (superblock[21] & 0xff) << 8;
        int expected = switch (compression) {
            case GZIP -> 1;
            case XZ -> 4;
            case LZ4 -> 5;
            case ZSTD -> 6;
        };
        assertThat(id).isEqualTo(expected);
        assertThat(run("rdsquashfs", "-c", "etc/keep", out.toString())).isNotEmpty();
    }
}
