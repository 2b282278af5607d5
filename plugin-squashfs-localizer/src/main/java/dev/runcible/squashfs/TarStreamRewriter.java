package dev.runcible.squashfs;

import static dev.runcible.squashfs.TarBlocks.BLOCK;
import static dev.runcible.squashfs.TarBlocks.cString;
import static dev.runcible.squashfs.TarBlocks.checksumMatches;
import static dev.runcible.squashfs.TarBlocks.header;
import static dev.runcible.squashfs.TarBlocks.isZero;
import static dev.runcible.squashfs.TarBlocks.padding;
import static dev.runcible.squashfs.TarBlocks.parseNumber;
import static dev.runcible.squashfs.TarBlocks.parsePax;
import static dev.runcible.squashfs.TarBlocks.readBlock;
import static dev.runcible.squashfs.TarBlocks.readData;
import static dev.runcible.squashfs.TarBlocks.skipData;
import static dev.runcible.squashfs.TarBlocks.ustarName;
import static dev.runcible.squashfs.TarBlocks.withoutOverlayXattrs;
import static dev.runcible.squashfs.TarBlocks.writePax;

import dev.runcible.api.InvalidImageException;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites an OCI layer tar, block by block, so that overlayfs understands its deletions once the layer is
 * squashfs: {@code dir/.wh.name} becomes a character device 0:0 named {@code dir/name} (overlay's whiteout) and
 * {@code dir/.wh..wh..opq} becomes the xattr {@code trusted.overlay.opaque=y} on {@code dir}. Every
 * {@code trusted.overlay.*} xattr the layer itself carries is dropped. Every other entry,
 * with its pax and GNU long-name records, passes through byte for byte, and file contents are copied without being
 * parsed, which is what keeps conversion as fast as the download.
 *
 * <p>Directory entries are held back and written after all others: an opaque marker may come after its directory,
 * and tar2sqfs refuses a second entry for a directory it has seen, while it accepts the attributes of one it
 * created implicitly for a child. Entries whose path leaves the root, and hard links to a path outside it, are
 * refused.
 */
final class TarStreamRewriter {
    static final String WHITEOUT_PREFIX = ".wh.";
    static final String OPAQUE_MARKER = ".wh..wh..opq";
    static final String OPAQUE_XATTR = "SCHILY.xattr.trusted.overlay.opaque";

    private final String layer;
    private final Map<String, Held> directories = new LinkedHashMap<>();
    private final Set<String> opaque = new LinkedHashSet<>();
    private final byte[] copyBuffer = new byte[1 << 16];
    private long entries;

    /** A directory entry held back: its pax records (if any), other meta blocks (GNU names) and header. */
    private record Held(Map<String, String> pax, byte[] otherMeta, byte[] header) {
    }

    TarStreamRewriter(String layer) {
        this.layer = layer;
    }

    long entries() {
        return entries;
    }

    void rewrite(InputStream in, OutputStream out) throws IOException, InvalidImageException {
        Map<String, String> pax = null;
        ByteArrayOutputStream meta = new ByteArrayOutputStream();
        String longName = null;
        String longLink = null;
        byte[] header = new byte[BLOCK];
        while (true) {
            if (!readBlock(in, header)) {
                break; // a tar without end-of-archive blocks
            }
            if (isZero(header)) {
                break; // end of archive; the rest is padding
            }
            if (!checksumMatches(header)) {
                throw new InvalidImageException("Layer " + layer + " is not a valid tar: bad header checksum after "
                        + entries + " entries");
            }
            byte type = header[156];
            long size = parseNumber(header, 124, 12);
            switch (type) {
                case 'x' -> {
                    byte[] data = readData(in, size);
                    pax = withoutOverlayXattrs(parsePax(data));
                    continue;
                }
                case 'L', 'K' -> {
                    byte[] data = readData(in, size);
                    String value = cString(data, 0, data.length);
                    meta.write(header);
                    meta.write(data);
                    meta.write(new byte[padding(size)]);
                    if (type == 'L') {
                        longName = value;
                    } else {
                        longLink = value;
                    }
                    continue;
                }
                case 'g' -> {
                    // Global records apply to every later entry: they may carry no overlay xattr either.
                    Map<String, String> global = parsePax(readData(in, size));
                    Map<String, String> kept = withoutOverlayXattrs(global);
                    if (!kept.isEmpty()) {
                        writePax(out, kept, (byte) 'g');
                    }
                    continue;
                }
                default -> {
                    // an entry; handled below
                }
            }
            entries++;
            String rawName = pax != null && pax.containsKey("path") ? pax.get("path")
                    : longName != null ? longName : ustarName(header);
            String name = normalize(rawName, "entry");
            int slash = name.lastIndexOf('/');
            String parent = slash < 0 ? "" : name.substring(0, slash);
            String base = name.substring(slash + 1);
            if (base.equals(OPAQUE_MARKER)) {
                opaque.add(parent);
                skipData(in, size);
            } else if (base.startsWith(WHITEOUT_PREFIX)) {
                String hidden = base.substring(WHITEOUT_PREFIX.length());
                if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
                    throw new InvalidImageException("Layer " + layer + " has a whiteout '" + rawName
                            + "' that names no file");
                }
                skipData(in, size);
                writeEntry(out, parent.isEmpty() ? hidden : parent + "/" + hidden, (byte) '3', 0,
                        parseNumber(header, 136, 12), Map.of());
            } else if (type == '5') {
                directories.put(name, new Held(pax == null ? Map.of() : pax, meta.toByteArray(), header.clone()));
                skipData(in, size);
            } else {
                if (name.isEmpty()) {
                    throw new InvalidImageException("Layer " + layer + " has a non-directory entry named '" + rawName
                            + "' for its root directory");
                }
                if (type == '1') {
                    String link = pax != null && pax.containsKey("linkpath") ? pax.get("linkpath")
                            : longLink != null ? longLink : cString(header, 157, 100);
                    normalize(link, "hard link target of '" + name + "'");
                }
                if (pax != null) {
                    writePax(out, pax);
                }
                meta.writeTo(out);
                out.write(header);
                copyData(in, out, size);
            }
            pax = null;
            meta.reset();
            longName = null;
            longLink = null;
        }
        for (String dir : opaque) {
            Held held = directories.get(dir);
            Map<String, String> records = new LinkedHashMap<>(held == null ? Map.of() : held.pax());
            records.put(OPAQUE_XATTR, "y");
            if (held == null) {
                directories.put(dir, new Held(records, new byte[0], header(dir.isEmpty() ? "./" : dir + "/",
                        (byte) '5', 0755, 0)));
            } else {
                directories.put(dir, new Held(records, held.otherMeta(), held.header()));
            }
        }
        for (Held held : directories.values()) {
            if (!held.pax().isEmpty()) {
                writePax(out, held.pax());
            }
            out.write(held.otherMeta());
            out.write(held.header());
        }
        out.write(new byte[2 * BLOCK]);
    }

    /** A path relative to the layer root, without '.' parts; '..' anywhere is refused. */
    private String normalize(String path, String what) throws InvalidImageException {
        List<String> parts = new ArrayList<>();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                throw new InvalidImageException("Layer " + layer + " has " + what + " '" + path
                        + "' that escapes the root; refusing to convert it");
            }
            parts.add(part);
        }
        return String.join("/", parts);
    }

    private void writeEntry(OutputStream out, String name, byte type, int mode, long mtime,
            Map<String, String> extra) throws IOException {
        Map<String, String> records = new LinkedHashMap<>(extra);
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        if (nameBytes.length > 100) {
            records.put("path", name);
        }
        if (!records.isEmpty()) {
            writePax(out, records);
        }
        out.write(header(nameBytes.length > 100 ? "runcible-long-name" : name, type, mode, mtime));
    }

    private void copyData(InputStream in, OutputStream out, long size) throws IOException {
        long remaining = size + padding(size);
        while (remaining > 0) {
            int n = in.read(copyBuffer, 0, (int) Math.min(copyBuffer.length, remaining));
            if (n < 0) {
                throw new EOFException("truncated tar data");
            }
            out.write(copyBuffer, 0, n);
            remaining -= n;
        }
    }
}
