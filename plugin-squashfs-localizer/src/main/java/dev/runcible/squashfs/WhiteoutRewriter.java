package dev.runcible.squashfs;

import dev.runcible.api.InvalidImageException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Rewrites an OCI layer tar so that overlayfs understands its deletions once the layer is squashfs:
 * {@code dir/.wh.name} becomes a character device 0:0 named {@code dir/name} (overlay's whiteout), and
 * {@code dir/.wh..wh..opq} becomes the xattr {@code trusted.overlay.opaque=y} on {@code dir}.
 *
 * <p>Directory entries are held back and written after all other entries: the opaque marker can come after its
 * directory, and tar2sqfs refuses a second entry for a directory it has already seen, while it accepts the
 * attributes of a directory it first created implicitly for a child. Entries whose path leaves the root, and hard
 * links to a path outside it, are rejected.
 */
final class WhiteoutRewriter {
    static final String WHITEOUT_PREFIX = ".wh.";
    static final String OPAQUE_MARKER = ".wh..wh..opq";
    static final String OPAQUE_XATTR = "SCHILY.xattr.trusted.overlay.opaque";

    private final String layer;
    private final Map<String, TarArchiveEntry> directories = new LinkedHashMap<>();
    private final Set<String> opaque = new HashSet<>();
    private long entries;

    WhiteoutRewriter(String layer) {
        this.layer = layer;
    }

    long entries() {
        return entries;
    }

    void rewrite(TarArchiveInputStream in, TarArchiveOutputStream out) throws IOException, InvalidImageException {
        byte[] buffer = new byte[1 << 16];
        for (TarArchiveEntry entry; (entry = in.getNextEntry()) != null; ) {
            entries++;
            String name = normalize(entry.getName(), "entry");
            int slash = name.lastIndexOf('/');
            String parent = slash < 0 ? "" : name.substring(0, slash);
            String base = name.substring(slash + 1);
            if (base.equals(OPAQUE_MARKER)) {
                opaque.add(parent);
                continue;
            }
            if (base.startsWith(WHITEOUT_PREFIX)) {
                String hidden = base.substring(WHITEOUT_PREFIX.length());
                if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
                    throw new InvalidImageException("Layer " + layer + " has a whiteout '" + entry.getName()
                            + "' that names no file");
                }
                TarArchiveEntry whiteout = new TarArchiveEntry(join(parent, hidden), TarConstants.LF_CHR);
                whiteout.setDevMajor(0);
                whiteout.setDevMinor(0);
                whiteout.setMode(0);
                whiteout.setModTime(entry.getModTime());
                out.putArchiveEntry(whiteout);
                out.closeArchiveEntry();
                continue;
            }
            if (entry.isDirectory()) {
                entry.setName(name.isEmpty() ? "./" : name + "/");
                directories.put(name, entry);
                continue;
            }
            if (name.isEmpty()) {
                throw new InvalidImageException("Layer " + layer + " has a " + describe(entry)
                        + " entry named '" + entry.getName() + "' for its root directory");
            }
            entry.setName(name);
            if (entry.isLink()) {
                entry.setLinkName(normalize(entry.getLinkName(), "hard link target of '" + name + "'"));
            }
            out.putArchiveEntry(entry);
            if (entry.isFile()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    out.write(buffer, 0, n);
                }
            }
            out.closeArchiveEntry();
        }
        for (String dir : opaque) {
            directories.computeIfAbsent(dir, d -> {
                TarArchiveEntry synthetic = new TarArchiveEntry(d.isEmpty() ? "./" : d + "/", TarConstants.LF_DIR);
                synthetic.setMode(0755);
                return synthetic;
            }).addPaxHeader(OPAQUE_XATTR, "y");
        }
        List<TarArchiveEntry> held = new ArrayList<>(directories.values());
        for (TarArchiveEntry directory : held) {
            out.putArchiveEntry(directory);
            out.closeArchiveEntry();
        }
    }

    /** A path relative to the layer root: no leading '/' or './', no '.', and no '..' anywhere. */
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

    private static String describe(TarArchiveEntry entry) {
        return entry.isSymbolicLink() ? "symbolic link" : entry.isLink() ? "hard link" : "non-directory";
    }

    private static String join(String parent, String name) {
        return parent.isEmpty() ? name : parent + "/" + name;
    }
}
