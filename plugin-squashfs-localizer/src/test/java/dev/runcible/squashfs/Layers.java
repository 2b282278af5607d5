package dev.runcible.squashfs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Builds layer tars for tests, entry by entry, as an image builder would write them. */
final class Layers {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarArchiveOutputStream tar;

    Layers() {
        this(TarArchiveOutputStream.LONGFILE_POSIX);
    }

    /** With GNU long-name records instead of pax headers for names over 100 bytes. */
    static Layers gnu() {
        return new Layers(TarArchiveOutputStream.LONGFILE_GNU);
    }

    private Layers(int longFileMode) {
        tar = new TarArchiveOutputStream(bytes);
        tar.setLongFileMode(longFileMode);
    }

    Layers dirWithXattr(String name, String xattr, String value) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
        entry.setMode(040700);
        entry.addPaxHeader("SCHILY.xattr." + xattr, value);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
        return this;
    }

    Layers dir(String name) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
        entry.setMode(040755);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
        return this;
    }

    Layers file(String name, String content) throws IOException {
        return file(name, content, null, null);
    }

    Layers file(String name, String content, String xattr, String value) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(data.length);
        entry.setMode(0100644);
        if (xattr != null) {
            entry.addPaxHeader("SCHILY.xattr." + xattr, value);
        }
        tar.putArchiveEntry(entry);
        tar.write(data);
        tar.closeArchiveEntry();
        return this;
    }

    Layers link(String name, String target, byte type) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name, type);
        entry.setLinkName(target);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
        return this;
    }

    Layers symlink(String name, String target) throws IOException {
        return link(name, target, TarConstants.LF_SYMLINK);
    }

    Layers hardlink(String name, String target) throws IOException {
        return link(name, target, TarConstants.LF_LINK);
    }

    byte[] tar() throws IOException {
        tar.finish();
        return bytes.toByteArray();
    }

    byte[] gzip() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(out)) {
            gz.write(tar());
        }
        return out.toByteArray();
    }

    /** A one-file tar whose first header's checksum no longer matches. */
    static byte[] corruptChecksum() throws IOException {
        byte[] tar = new Layers().file("a", "x").tar();
        tar[0] = 'b';
        return tar;
    }

    /** The sample layer: a deleted file, an opaque directory, links and an xattr. */
    static Layers sample() throws IOException {
        return new Layers()
                .dir("etc").file("etc/keep", "kept\n", "user.origin", "test").file("etc/.wh.gone", "")
                .dir("opt").file("opt/.wh..wh..opq", "").file("opt/new", "new\n")
                .symlink("link", "/etc/keep").hardlink("etc/hard", "etc/keep")
                .file("./dotted/deep/file", "x");
    }
}
