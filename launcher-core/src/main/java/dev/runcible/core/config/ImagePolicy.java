package dev.runcible.core.config;

import dev.runcible.api.ImageReference;
import dev.runcible.api.InvalidReferenceException;
import dev.runcible.api.PolicyViolationException;
import java.util.ArrayList;
import java.util.List;

/**
 * Which images may run: {@code runcible.allowed.images}, a comma list whose entries are {@code *} (any image), a
 * repository ({@code demo/busybox}, any tag), a full reference with tag or digest, or a prefix ending in
 * {@code /*} ({@code registry.example.com/*}). Entries are normalized like references, so {@code busybox} and
 * {@code docker.io/library/busybox} are the same entry.
 */
public final class ImagePolicy {
    private final List<String> entries;
    private final boolean any;
    private final List<String> prefixes = new ArrayList<>();
    private final List<ImageReference> exact = new ArrayList<>();
    private final List<ImageReference> repositories = new ArrayList<>();

    private ImagePolicy(List<String> entries, List<String> problems) {
        this.entries = List.copyOf(entries);
        this.any = entries.contains("*");
        for (String entry : entries) {
            if (entry.equals("*")) {
                continue;
            }
            if (entry.endsWith("/*")) {
                String prefix = entry.substring(0, entry.length() - 1);
                prefixes.add(prefix);
                continue;
            }
            try {
                ImageReference reference = ImageReference.parse(entry);
                int slash = entry.lastIndexOf('/');
                boolean hasTag = entry.indexOf(':', slash + 1) >= 0 || entry.contains("@");
                (hasTag ? exact : repositories).add(reference);
            } catch (InvalidReferenceException e) {
                problems.add("'runcible.allowed.images' entry '" + entry + "' is not an image name, a repository,"
                        + " '*' or a prefix ending in '/*'");
            }
        }
    }

    /** For administrative commands (pull, import), which the run-time allow-list does not govern. */
    public static ImagePolicy allowAll() {
        return new ImagePolicy(List.of("*"), new ArrayList<>());
    }

    public static ImagePolicy parse(List<String> entries, List<String> problems) {
        return new ImagePolicy(entries, problems);
    }

    public void check(ImageReference reference) throws PolicyViolationException {
        if (!allows(reference)) {
            throw new PolicyViolationException("Image '" + reference.familiarName() + "' is not allowed on this "
                    + "node: runcible.allowed.images is " + String.join(",", entries)
                    + "; add the image or its repository to that list");
        }
    }

    public boolean allows(ImageReference reference) {
        if (any) {
            return true;
        }
        for (ImageReference allowed : repositories) {
            if (allowed.registry().equals(reference.registry())
                    && allowed.repository().equals(reference.repository())) {
                return true;
            }
        }
        for (ImageReference allowed : exact) {
            if (allowed.equals(reference)) {
                return true;
            }
        }
        for (String prefix : prefixes) {
            for (String name : reference.storeNames()) {
                if (name.startsWith(prefix)) {
                    return true;
                }
            }
        }
        return false;
    }
}
