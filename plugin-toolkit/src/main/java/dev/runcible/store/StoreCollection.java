package dev.runcible.store;

import dev.runcible.api.Digest;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rules of {@link dev.runcible.api.ImageStore#collect}, the same for every store: a file is kept when its digest is a tagged
 * manifest or appears in one (its config, layers, index entries), or when it is younger than the grace period.
 */
public final class StoreCollection {
    private static final Pattern DIGEST = Pattern.compile("sha256:([0-9a-f]{64})");

    private final Set<String> referenced = new HashSet<>();

    /** Keeps a tagged manifest and every digest its text names. */
    public void reference(Digest manifest, String manifestText) {
        referenced.add(manifest.hex());
        if (manifestText != null) {
            Matcher m = DIGEST.matcher(manifestText);
            while (m.find()) {
                referenced.add(m.group(1));
            }
        }
    }

    /** Whether a file of the layout (by name, e.g. {@code HEX.sqsh.sha256}) may go. Temporary files never do. */
    public boolean collectable(String fileName, Instant modified, Instant cutoff) {
        String hex = fileName.length() >= 64 ? fileName.substring(0, 64) : fileName;
        return Digest.isHex(hex) && !referenced.contains(hex) && modified.isBefore(cutoff);
    }
}
