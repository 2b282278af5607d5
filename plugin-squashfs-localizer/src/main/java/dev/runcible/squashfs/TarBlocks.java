package dev.runcible.squashfs;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tar format at the level of 512-byte blocks, as {@link TarStreamRewriter} reads and writes it: ustar headers
 * and their checksums, numbers in octal or base-256, pax records (xattr values kept as bytes), and the overlay
 * xattrs a layer may not carry.
 */
final class TarBlocks {
    static final int BLOCK = 512;

    private TarBlocks() {
    }

    /** A ustar header with owner 0:0 and size 0. */
    static byte[] header(String name, byte type, int mode, long mtime) {
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
        if (records.keySet().stream().noneMatch(TarBlocks::isOverlayXattr)) {
            return records;
        }
        Map<String, String> kept = new LinkedHashMap<>(records);
        kept.keySet().removeIf(TarBlocks::isOverlayXattr);
        return kept;
    }

    static boolean isOverlayXattr(String key) {
        // SCHILY.xattr.NAME (GNU tar, docker) and LIBARCHIVE.xattr.NAME (bsdtar, NAME percent-encoded).
        return key.startsWith("SCHILY.xattr.trusted.overlay.") || key.startsWith("LIBARCHIVE.xattr.trusted.overlay.")
                || key.startsWith("LIBARCHIVE.xattr.trusted%2Eoverlay%2E");
    }

    /** Xattr values are bytes, not text: they are carried as ISO-8859-1 so that every byte survives. */
    static boolean binaryValue(String key) {
        return key.startsWith("SCHILY.xattr.");
    }

    static void writePax(OutputStream out, Map<String, String> records) throws IOException {
        writePax(out, records, (byte) 'x');
    }

    static void writePax(OutputStream out, Map<String, String> records, byte type) throws IOException {
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

    static Map<String, String> parsePax(byte[] data) throws IOException {
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

    static String ustarName(byte[] h) {
        String name = cString(h, 0, 100);
        boolean ustar = h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r';
        String prefix = ustar ? cString(h, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    static String cString(byte[] bytes, int offset, int length) {
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

    static void octal(byte[] h, int offset, int length, long value) {
        String text = Long.toOctalString(value);
        int digits = length - 1;
        String padded = "0".repeat(Math.max(0, digits - text.length())) + text;
        byte[] bytes = padded.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bytes, 0, h, offset, digits);
        h[offset + digits] = 0;
    }

    static void setChecksum(byte[] h) {
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

    static boolean checksumMatches(byte[] h) {
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

    static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    static int padding(long size) {
        return (int) ((BLOCK - size % BLOCK) % BLOCK);
    }

    static boolean readBlock(InputStream in, byte[] block) throws IOException {
        int n = in.readNBytes(block, 0, BLOCK);
        if (n == 0) {
            return false;
        }
        if (n < BLOCK) {
            throw new EOFException("truncated tar header");
        }
        return true;
    }

    static byte[] readData(InputStream in, long size) throws IOException {
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

    static void skipData(InputStream in, long size) throws IOException {
        in.skipNBytes(size + padding(size));
    }
}
