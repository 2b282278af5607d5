package dev.runcible.api;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An image reference {@code [registry/]repository[:tag][@digest]}, normalized with Docker's rules so that
 * {@code busybox}, {@code library/busybox:latest} and {@code docker.io/library/busybox:latest} are one image (and
 * equal). {@code written} keeps the text as it was given: a Storm/YARN tag file is searched for it first.
 */
public record ImageReference(String registry, String repository, Optional<String> tag, Optional<Digest> digest,
        String written) {
    public static final String DEFAULT_REGISTRY = "docker.io";
    public static final String DEFAULT_TAG = "latest";
    private static final String OFFICIAL_PREFIX = "library/";
    private static final int MAX_NAME_LENGTH = 255;
    /** What a Storm/YARN tag file accepts as a name: no white space, and no ',' or '#', which its lines use. */
    private static final Pattern STORE_NAME = Pattern.compile("[^\\s,#@]+(?:@sha256:[0-9a-f]{64})?");

    // One path component: lowercase alphanumerics joined by '.', '_', '__' or runs of '-' (distribution's grammar).
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern REGISTRY = Pattern.compile(
            "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?"
                    + "|\\[[0-9A-Fa-f:.]+\\](?::[0-9]{1,5})?");

    /** A reference written in its canonical form. */
    public ImageReference(String registry, String repository, Optional<String> tag, Optional<Digest> digest) {
        this(registry, repository, tag, digest, null);
    }

    public ImageReference {
        if (written == null) {
            written = registry + "/" + repository + tag.map(t -> ":" + t).orElse("")
                    + digest.map(d -> "@" + d).orElse("");
        }
        requireNonNull(registry, "registry is null");
        requireNonNull(repository, "repository is null");
        requireNonNull(tag, "tag is null");
        requireNonNull(digest, "digest is null");
        if (tag.isEmpty() && digest.isEmpty()) {
            throw new IllegalArgumentException("A reference needs a tag or a digest");
        }
    }

    public static ImageReference parse(String text) throws InvalidReferenceException {
        requireNonNull(text, "text is null");
        if (text.isEmpty()) {
            throw invalid(text, "it is empty");
        }
        if (!text.strip().equals(text)) {
            throw invalid(text, "it has leading or trailing white space");
        }
        String rest = text;
        Optional<Digest> digest = Optional.empty();
        int at = rest.indexOf('@');
        if (at >= 0) {
            try {
                digest = Optional.of(Digest.parse(rest.substring(at + 1)));
            } catch (InvalidReferenceException e) {
                throw invalid(text, "the part after '@' is not a sha256 digest");
            }
            rest = rest.substring(0, at);
        }
        // A tag is the part after the last ':' only when no '/' follows it; otherwise the ':' is a registry port.
        Optional<String> tag = Optional.empty();
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
            String candidate = rest.substring(colon + 1);
            if (!TAG.matcher(candidate).matches()) {
                throw invalid(text, "tag '" + candidate + "' must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
            }
            tag = Optional.of(candidate);
            rest = rest.substring(0, colon);
        }
        if (rest.isEmpty()) {
            throw invalid(text, "the repository name is empty");
        }
        // The first component names a registry only if it looks like a host: it has a '.' or a ':' or is localhost.
        String registry = DEFAULT_REGISTRY;
        String path = rest;
        int slash = rest.indexOf('/');
        if (slash > 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost") || first.startsWith("[")) {
                if (!REGISTRY.matcher(first).matches()) {
                    throw invalid(text, "registry '" + first + "' is not a valid host[:port]");
                }
                registry = first;
                path = rest.substring(slash + 1);
            }
        }
        if (path.isEmpty()) {
            throw invalid(text, "the repository name is empty");
        }
        for (String component : path.split("/", -1)) {
            if (!COMPONENT.matcher(component).matches()) {
                String why = component.isEmpty() ? "it has an empty path component"
                        : !component.equals(component.toLowerCase(java.util.Locale.ROOT))
                                ? "repository names must be lowercase ('" + component + "')"
                                : "path component '" + component
                                        + "' must be lowercase letters and digits joined by '.', '_', '__' or '-'";
                throw invalid(text, why);
            }
        }
        // Docker Hub keeps official images under library/.
        if (registry.equals(DEFAULT_REGISTRY) && !path.contains("/")) {
            path = OFFICIAL_PREFIX + path;
        }
        if (registry.length() + 1 + path.length() > MAX_NAME_LENGTH) {
            throw invalid(text, "the name is longer than " + MAX_NAME_LENGTH + " characters");
        }
        if (tag.isEmpty() && digest.isEmpty()) {
            tag = Optional.of(DEFAULT_TAG);
        }
        return new ImageReference(registry, path, tag, digest, text);
    }

    /**
     * A name to look up in a Storm/YARN store: a docker reference when it is one, else the name as Storm's tag file
     * allows it (any characters but white space, ',' and '#'; {@code MyTeam/Hello:Prod}), which only a store can
     * resolve: {@link #storeNames()} gives it as written first, {@link #requireDockerName()} refuses it.
     */
    public static ImageReference parseStoreName(String text) throws InvalidReferenceException {
        try {
            return parse(text);
        } catch (InvalidReferenceException strict) {
            if (text.isEmpty() || text.length() > MAX_NAME_LENGTH || !STORE_NAME.matcher(text).matches()) {
                throw strict;
            }
            String rest = text;
            Optional<Digest> digest = Optional.empty();
            int at = rest.indexOf('@');
            if (at >= 0) {
                digest = Optional.of(Digest.parse(rest.substring(at + 1)));
                rest = rest.substring(0, at);
            }
            Optional<String> tag = Optional.empty();
            int colon = rest.lastIndexOf(':');
            if (colon > rest.lastIndexOf('/') && colon < rest.length() - 1) {
                tag = Optional.of(rest.substring(colon + 1));
                rest = rest.substring(0, colon);
            }
            if (rest.isEmpty()) {
                throw strict;
            }
            if (tag.isEmpty() && digest.isEmpty()) {
                tag = Optional.of(DEFAULT_TAG);
            }
            return new ImageReference(DEFAULT_REGISTRY, rest, tag, digest, text);
        }
    }

    /** Refuses, with docker's reason, a name that only a store can resolve (see {@link #parseStoreName}). */
    public void requireDockerName() throws InvalidReferenceException {
        parse(written);
    }

    /** Equal when they name the same image, however written. */
    @Override
    public boolean equals(Object other) {
        return other instanceof ImageReference that && registry.equals(that.registry)
                && repository.equals(that.repository) && tag.equals(that.tag) && digest.equals(that.digest);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(registry, repository, tag, digest);
    }

    private static InvalidReferenceException invalid(String text, String why) {
        return new InvalidReferenceException("Invalid image reference '" + text + "': " + why);
    }

    /** The repository as docker shows it: without {@code docker.io/} and {@code library/}. */
    public String familiarRepository() {
        if (!registry.equals(DEFAULT_REGISTRY)) {
            return registry + "/" + repository;
        }
        return repository.startsWith(OFFICIAL_PREFIX) ? repository.substring(OFFICIAL_PREFIX.length()) : repository;
    }

    /** {@code busybox:latest}, {@code 127.0.0.1:5000/app@sha256:...}. */
    public String familiarName() {
        return familiarRepository() + suffix();
    }

    /**
     * The names a Storm/YARN tag file may list this image under: the name as written ({@code centos}, which Hadoop's
     * docs put in tag files), then the normalized forms, most specific first: the fully qualified name, the name
     * with {@code library/}, and the familiar name.
     */
    public List<String> storeNames() {
        Set<String> names = new LinkedHashSet<>();
        names.add(written);
        names.add(toString());
        if (registry.equals(DEFAULT_REGISTRY)) {
            names.add(repository + suffix());
        }
        names.add(familiarName());
        return List.copyOf(names);
    }

    private String suffix() {
        return tag.map(t -> ":" + t).orElse("") + digest.map(d -> "@" + d).orElse("");
    }

    @Override
    public String toString() {
        return registry + "/" + repository + suffix();
    }
}
