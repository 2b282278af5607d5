package dev.runcible.store;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageManifest;
import dev.runcible.api.ImageNotFoundException;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageResources;
import dev.runcible.api.ImageTagToManifest;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.InvalidReferenceException;
import dev.runcible.api.ManifestBlob;
import dev.runcible.api.ManifestToResources;
import dev.runcible.api.OciResource;
import dev.runcible.api.RuncibleException;
import dev.runcible.api.TagRecord;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads images from a store in the Storm/YARN layout, on any {@link StoreFileSystem}. The tag files are compared
 * with what was read (size, modification time, file key) at most every {@code refreshMillis} and swapped in whole
 * when one changed. Several tag files may be given: a later one's names win, as Storm's node-local override does.
 * Manifests that hash to their name are kept, as they can never change.
 */
public final class StoreReader implements ImageTagToManifest, ManifestToResources {
    private static final System.Logger LOG = System.getLogger(StoreReader.class.getName());
    private static final int MAX_CACHED = 1024;
    private static final int MAX_RECORD_BYTES = 4096;
    /** A tag file of 100,000 lines is a few MB; this bounds a damaged one. */
    private static final int MAX_TAG_FILE_BYTES = 256 << 20;

    private final StoreFileSystem store;
    private final List<TagSource> sources;
    private final long refreshNanos;
    private final Map<Digest, ManifestBlob> manifests = new ConcurrentHashMap<>();
    /** The tag-file names each looked-up name (as written) goes by, so a warm lookup allocates nothing. */
    private final Map<String, List<String>> storeNames = new ConcurrentHashMap<>();
    private volatile Snapshot snapshot;

    /** A tag file: the store's own, or a node-local one on another filesystem. */
    public record TagSource(StoreFileSystem fileSystem, String path) {
        String describe() {
            return fileSystem.describe(path);
        }
    }

    /** The parsed tag files, the attributes they were read with, and when those were last compared. */
    private record Snapshot(List<Optional<StoreFileSystem.FileStatus>> statuses, List<TagFile> files,
            long checkedAt) {
        Digest manifestOf(String name) {
            for (int i = files.size() - 1; i >= 0; i--) {
                Digest digest = files.get(i).manifestOf(name);
                if (digest != null) {
                    return digest;
                }
            }
            return null;
        }
    }

    /** A reader of the store's own tag file only. */
    public StoreReader(StoreFileSystem store, long refreshMillis) {
        this(store, List.of(new TagSource(store, StoreLayout.TAG_FILE)), refreshMillis);
    }

    /** {@code refreshMillis}: how long a look at the tag files' attributes stays good (0: every lookup looks). */
    public StoreReader(StoreFileSystem store, List<TagSource> sources, long refreshMillis) {
        this.store = store;
        this.sources = List.copyOf(sources);
        this.refreshNanos = refreshMillis * 1_000_000;
    }

    @Override
    public ManifestBlob resolve(ImageReference reference) throws RuncibleException {
        if (reference.digest().isPresent()) {
            return read(reference.digest().get(), reference.toString());
        }
        Snapshot tags = tags();
        List<String> names = storeNames.get(reference.written());
        if (names == null) {
            if (storeNames.size() >= MAX_CACHED) {
                storeNames.clear();
            }
            names = reference.storeNames();
            storeNames.put(reference.written(), names);
        }
        for (String name : names) {
            Digest digest = tags.manifestOf(name);
            if (digest != null) {
                return read(digest, name);
            }
        }
        try {
            reference.requireDockerName();
        } catch (InvalidReferenceException e) {
            // A name only a tag file could hold, and this one does not: docker's reason is the likelier mistake.
            throw new InvalidReferenceException(e.getMessage() + "; nor does the store at " + store.location()
                    + " list it as written");
        }
        // The wanted name may sit on a line that was skipped as malformed: say so, with the line.
        List<String> problems = problems(tags);
        String skipped = problems.isEmpty() ? ""
                : "; " + problems.size() + " malformed line(s) were skipped, first: " + problems.get(0);
        int count = tags.files().size() == 1 ? tags.files().get(0).nameCount() : byName(tags).size();
        throw new ImageNotFoundException("No image '" + reference.familiarName() + "' in the store at "
                + store.location() + " (the tag files list " + count + " names" + skipped + "). Import it with "
                + "'runcible import ... --to " + store.location() + "' or check the name with 'runcible images'.");
    }

    @Override
    public ManifestBlob fetch(ImageReference reference, Digest digest) throws RuncibleException {
        return read(digest, reference + "@" + digest);
    }

    @Override
    public List<TagRecord> list() throws RuncibleException {
        Snapshot tags = tags();
        if (tags.files().size() == 1) {
            return tags.files().get(0).records();
        }
        List<TagRecord> records = new ArrayList<>();
        tags.files().forEach(file -> records.addAll(file.records()));
        return List.copyOf(records);
    }

    /** Each name to the manifest it resolves to, across every tag file. */
    public Map<String, Digest> byName() throws RuncibleException {
        return byName(tags());
    }

    private static Map<String, Digest> byName(Snapshot tags) {
        if (tags.files().size() == 1) {
            return tags.files().get(0).byName();
        }
        Map<String, Digest> merged = new java.util.LinkedHashMap<>();
        tags.files().forEach(file -> merged.putAll(file.byName()));
        return Map.copyOf(merged);
    }

    /** The malformed lines skipped, across every tag file. */
    public List<String> problems() throws RuncibleException {
        return problems(tags());
    }

    private static List<String> problems(Snapshot tags) {
        List<String> all = new ArrayList<>();
        tags.files().forEach(file -> all.addAll(file.problems()));
        return all;
    }

    @Override
    public ImageResources resources(ImageReference reference, ImageManifest manifest) throws RuncibleException {
        Digest configDigest = manifest.config().digest();
        OciResource config = new OciResource(configDigest, manifest.config().mediaType(), OciResource.Kind.CONFIG,
                OciResource.Format.JSON, store.uri(StoreLayout.config(configDigest)), Optional.of(configDigest),
                OptionalLong.of(manifest.config().size()));
        List<OciResource> layers = new ArrayList<>();
        for (var layer : manifest.layers()) {
            layers.add(new OciResource(layer.digest(), layer.mediaType(), OciResource.Kind.LAYER,
                    OciResource.Format.SQUASHFS, store.uri(StoreLayout.layer(layer.digest())),
                    recordedSquashfsDigest(layer.digest()), OptionalLong.empty()));
        }
        return new ImageResources(config, layers);
    }

    private Optional<Digest> recordedSquashfsDigest(Digest layer) throws RuncibleException {
        String record = StoreLayout.layerDigest(layer);
        String fix = "; rewrite it with 'sha256sum " + StoreLayout.fileName(StoreLayout.layer(layer)) + "'";
        byte[] bytes;
        try {
            bytes = store.read(record, MAX_RECORD_BYTES);
        } catch (NoSuchFileException e) {
            return Optional.empty(); // Stores written by Storm's or YARN's tools record none.
        } catch (IOException e) {
            throw store.failure(e, "read squashfs digest record " + store.describe(record));
        }
        if (bytes.length > MAX_RECORD_BYTES) {
            throw new InvalidImageException("Squashfs digest record " + store.describe(record) + " is larger than "
                    + MAX_RECORD_BYTES + " bytes" + fix);
        }
        String hex = new String(bytes, StandardCharsets.US_ASCII).strip().split("\\s+", 2)[0];
        if (!Digest.isHex(hex)) {
            throw new InvalidImageException("Squashfs digest record " + store.describe(record)
                    + " does not start with 64 hex digits" + fix);
        }
        return Optional.of(new Digest(Digest.SHA256, hex));
    }

    private ManifestBlob read(Digest digest, String name) throws RuncibleException {
        ManifestBlob cached = manifests.get(digest);
        if (cached != null) {
            return cached;
        }
        String path = StoreLayout.manifest(digest);
        String source = store.describe(path);
        byte[] bytes;
        try {
            bytes = store.read(path, ManifestBlob.MAX_BYTES);
        } catch (NoSuchFileException e) {
            throw new ImageNotFoundException("Image '" + name + "' points at manifest " + digest.hex()
                    + " but " + source + " does not exist; re-import the image");
        } catch (IOException e) {
            throw store.failure(e, "read manifest " + source);
        }
        if (bytes.length > ManifestBlob.MAX_BYTES) {
            throw new InvalidImageException("Manifest " + source + " is above the cap of "
                    + ManifestBlob.MAX_BYTES + " bytes");
        }
        ManifestBlob blob = new ManifestBlob(digest, bytes, source);
        // Content-addressed: bytes that hash to their name can never change, so only those are kept.
        if (Digest.of(bytes).equals(digest)) {
            if (manifests.size() >= MAX_CACHED) {
                manifests.clear();
            }
            manifests.put(digest, blob);
        }
        return blob;
    }

    private Snapshot tags() throws RuncibleException {
        Snapshot recent = snapshot;
        if (recent != null && refreshNanos > 0 && System.nanoTime() - recent.checkedAt() < refreshNanos) {
            return recent;
        }
        List<Optional<StoreFileSystem.FileStatus>> statuses = statuses();
        Snapshot current = snapshot;
        if (current != null && current.statuses().equals(statuses)) {
            Snapshot same = new Snapshot(current.statuses(), current.files(), System.nanoTime());
            snapshot = same;
            return same;
        }
        if (statuses.stream().allMatch(Optional::isEmpty)) {
            try {
                if (!store.rootExists()) {
                    throw new ImageNotFoundException("Image store " + store.location() + " does not exist; check "
                            + store.rootSetting() + " or create it with 'runcible import ... --to "
                            + store.location() + "'");
                }
            } catch (IOException e) {
                throw store.failure(e, "read " + store.location());
            }
        }
        return reload(statuses);
    }

    private List<Optional<StoreFileSystem.FileStatus>> statuses() throws RuncibleException {
        if (sources.size() == 1) {
            return List.of(status(sources.get(0)));
        }
        List<Optional<StoreFileSystem.FileStatus>> statuses = new ArrayList<>(sources.size());
        for (TagSource source : sources) {
            statuses.add(status(source));
        }
        return statuses;
    }

    private static Optional<StoreFileSystem.FileStatus> status(TagSource source) throws RuncibleException {
        try {
            return source.fileSystem().stat(source.path());
        } catch (IOException e) {
            throw source.fileSystem().failure(e, "read " + source.describe());
        }
    }

    /** Reads every tag file; the attributes were read before the content, so a change in between is seen next time. */
    private synchronized Snapshot reload(List<Optional<StoreFileSystem.FileStatus>> statuses)
            throws RuncibleException {
        List<TagFile> files = new ArrayList<>(sources.size());
        for (TagSource source : sources) {
            String text;
            try {
                byte[] bytes = source.fileSystem().read(source.path(), MAX_TAG_FILE_BYTES);
                if (bytes.length > MAX_TAG_FILE_BYTES) {
                    throw new InvalidImageException("Tag file " + source.describe() + " is larger than "
                            + (MAX_TAG_FILE_BYTES >> 20) + " MiB; it is damaged, restore it from a backup");
                }
                text = new String(bytes, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                text = ""; // none yet, or replaced between the look and the read: the next look sees the new one
            } catch (IOException e) {
                throw source.fileSystem().failure(e, "read " + source.describe());
            }
            TagFile file = TagFile.parse(text, source.describe());
            for (String problem : file.problems()) {
                LOG.log(Level.WARNING, "Skipping bad line: " + problem);
            }
            files.add(file);
        }
        Snapshot fresh = new Snapshot(statuses, List.copyOf(files), System.nanoTime());
        snapshot = fresh;
        return fresh;
    }

    /** The store's root when it is local, and every node-local tag file: a container may not bind them. */
    @Override
    public List<java.nio.file.Path> localState() {
        List<java.nio.file.Path> local = new ArrayList<>();
        if (store instanceof LocalStoreFileSystem nio) {
            local.add(nio.root());
        }
        for (TagSource source : sources) {
            if (source.fileSystem() != store && source.fileSystem() instanceof LocalStoreFileSystem nio) {
                local.add(nio.root().resolve(source.path()));
            }
        }
        return local;
    }
}
