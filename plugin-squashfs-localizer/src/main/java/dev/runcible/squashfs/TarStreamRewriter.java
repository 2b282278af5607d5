package dev.runcible.squashfs;

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
    private static final int BLOCK = 512;

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

    /** A ustar header with owner 0:0 and size 0. */
    private static byte[] header(String name, byte type, int mode, long mtime) {
        byte[] h = new byte[BLOCK];
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(nameBytes, 0, h, 0, Math.min(nameBytes.length, 100));
        octal(h, 100, 8, mode);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, 0);
        octal(h, 136, 12, Math.max(mtime, 0));
        h[156] = type;
        System.arraycopy("ustar\u000000".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 8);
        octal(h, 329, 8, 0);
        octal(h, 337, 8, 0);
        setChecksum(h);
        return h;
    }

    /**
     * The records without any {@code trusted.overlay.*} xattr (redirect, metacopy, origin, opaque, ...): overlayfs
     * acts on those, and a layer must not choose where its files lead. The opaque marker this converter writes
     * itself is added later, from {@code .wh..wh..opq}. Other xattrs ({@code security.capability},
     * {@code user.*}) stay.
     */
    static Map<String, String> withoutOverlayXattrs(Map<String, String> records) {
        if (records.keySet().stream().noneMatch(TarStreamRewriter::isOverlayXattr)) {
            return records;
        }
        Map<String, String> kept = new LinkedHashMap<>(records);
        kept.keySet().removeIf(TarStreamRewriter::isOverlayXattr);
        return kept;
    }

    private static boolean isOverlayXattr(String key) {
        // SCHILY.xattr.NAME (GNU tar, docker) and LIBARCHIVE.xattr.NAME (bsdtar, NAME percent-encoded).
        return key.startsWith("SCHILY.xattr.trusted.overlay.") || key.startsWith("LIBARCHIVE.xattr.trusted.overlay.")
                || key.startsWith("LIBARCHIVE.xattr.trusted%2Eoverlay%2E");
    }

    /** Xattr values are bytes, not text: they are carried as ISO-8859-1 so that every byte survives. */
    private static boolean binaryValue(String key) {
        return key.startsWith("SCHILY.xattr.");
    }

    private static void writePax(OutputStream out, Map<String, String> records) throws IOException {
        writePax(out, records, (byte) 'x');
    }

    private static void writePax(OutputStream out, Map<String, String> records, byte type) throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Map.Entry<String, String> record : records.entrySet()) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            line.writeBytes((" " + record.getKey() + "=").getBytes(StandardCharsets.UTF_8));
            line.writeBytes(record.getValue().getBytes(binaryValue(record.getKey()) ? StandardCharsets.ISO_8859_1
                    : StandardCharsets.UTF_8));
            line.write('\n');
            byte[] body = line.toByteArray();
            int length = body.length + 1;
            while (Integer.toString(length).length() + body.length != length) {
                length = Integer.toString(length).length() + body.length;
            }
            data.write(Integer.toString(length).getBytes(StandardCharsets.US_ASCII));
            data.write(body);
        }
        byte[] h = header("PaxHeaders/runcible", type, 0644, 0);
        octal(h, 124, 12, data.size());
        setChecksum(h);
        out.write(h);
        data.writeTo(out);
        out.write(new byte[padding(data.size())]);
    }

    private static Map<String, String> parsePax(byte[] data) throws IOException {
        Map<String, String> records = new LinkedHashMap<>();
        int i = 0;
        while (i < data.length && data[i] != 0) {
            int space = i;
            while (space < data.length && data[space] != ' ') {
                space++;
            }
            int length;
            try {
                length = Integer.parseInt(new String(data, i, space - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new IOException("bad pax record length");
            }
            if (length <= 0 || i + length > data.length || data[i + length - 1] != '\n') {
                throw new IOException("bad pax record");
            }
            int start = space + 1;
            int end = i + length - 1;
            int eq = start;
            while (eq < end && data[eq] != '=') {
                eq++;
            }
            if (eq > start && eq < end) {
                String key = new String(data, start, eq - start, StandardCharsets.UTF_8);
                records.put(key, new String(data, eq + 1, end - eq - 1, binaryValue(key) ? StandardCharsets.ISO_8859_1
                        : StandardCharsets.UTF_8));
            }
            i += length;
        }
        return records;
    }

    private static String ustarName(byte[] h) {
        String name = cString(h, 0, 100);
        boolean ustar = h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r';
        String prefix = ustar ? cString(h, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    private static String cString(byte[] bytes, int offset, int length) {
        int end = offset;
        while (end < offset + length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, offset, end - offset, StandardCharsets.UTF_8);
    }

    /** Octal, or base-256 when the top bit of the first byte is set (GNU/star extension for big values). */
    static long parseNumber(byte[] h, int offset, int length) throws IOException {
        if ((h[offset] & 0x80) != 0) {
            long value = h[offset] & 0x7f;
            for (int i = 1; i < length; i++) {
                value = (value << 8) | (h[offset + i] & 0xff);
            }
            return value;
        }
        long value = 0;
        boolean digits = false;
        for (int i = offset; i < offset + length; i++) {
            byte b = h[i];
            if (b == 0 || (b == ' ' && digits)) {
                break;
            }
            if (b == ' ') {
                continue;
            }
            if (b < '0' || b > '7') {
                throw new IOException("bad octal number in a tar header");
            }
            value = value * 8 + (b - '0');
            digits = true;
        }
        return value;
    }

    private static void octal(byte[] h, int offset, int length, long value) {
        String text = Long.toOctalString(value);
        int digits = length - 1;
        String padded = "0".repeat(Math.max(0, digits - text.length())) + text;
        byte[] bytes = padded.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bytes, 0, h, offset, digits);
        h[offset + digits] = 0;
    }

    private static void setChecksum(byte[] h) {
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        String text = String.format("%06o", sum);
        System.arraycopy(text.getBytes(StandardCharsets.US_ASCII), 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
    }

    private static boolean checksumMatches(byte[] h) {
        long stored;
        try {
            stored = parseNumber(h, 148, 8);
        } catch (IOException e) {
            return false; // not even a number where the checksum goes: not a tar header
        }
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            int b = (i >= 148 && i < 156) ? ' ' : h[i];
            unsigned += b & 0xff;
            signed += b;
        }
        return stored == unsigned || stored == signed;
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static int padding(long size) {
        return (int) ((BLOCK - size % BLOCK) % BLOCK);
    }

    private static boolean readBlock(InputStream in, byte[] block) throws IOException {
        int n = in.readNBytes(block, 0, BLOCK);
        if (n == 0) {
            return false;
        }
        if (n < BLOCK) {
            throw new EOFException("truncated tar header");
        }
        return true;
    }

    private static byte[] readData(InputStream in, long size) throws IOException {
        if (size > (16 << 20)) {
            throw new IOException("a tar meta record of " + size + " bytes is too large");
        }
        byte[] data = in.readNBytes((int) size);
        if (data.length < size) {
            throw new EOFException("truncated tar record");
        }
        in.skipNBytes(padding(size));
        return data;
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

    private static void skipData(InputStream in, long size) throws IOException {
        in.skipNBytes(size + padding(size));
    }
}
