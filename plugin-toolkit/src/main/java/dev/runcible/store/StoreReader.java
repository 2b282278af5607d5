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
    private static final int MAX_CACHED = 1024;
    private static final int MAX_RECORD_BYTES = 4096;

    private final StoreFileSystem store;
    private final List<TagSource> sources;
    private final TagFiles tagFiles;
    private final Map<Digest, ManifestBlob> manifests = new ConcurrentHashMap<>();
    /** The tag-file names each looked-up name (as written) goes by, so a warm lookup allocates nothing. */
    private final Map<String, List<String>> storeNames = new ConcurrentHashMap<>();

    /** A tag file: the store's own, or a node-local one on another filesystem. */
    public record TagSource(StoreFileSystem fileSystem, String path) {
        String describe() {
            return fileSystem.describe(path);
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
        this.tagFiles = new TagFiles(store, this.sources, refreshMillis);
    }

    @Override
    public ManifestBlob resolve(ImageReference reference) throws RuncibleException {
        if (reference.digest().isPresent()) {
            return read(reference.digest().get(), reference.toString());
        }
        TagFiles.Snapshot tags = tagFiles.current();
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
        List<String> problems = tags.problems();
        String skipped = problems.isEmpty() ? ""
                : "; " + problems.size() + " malformed line(s) were skipped, first: " + problems.get(0);
        int count = tags.nameCount();
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
        TagFiles.Snapshot tags = tagFiles.current();
        return tags.records();
    }

    /** Each name to the manifest it resolves to, across every tag file. */
    public Map<String, Digest> byName() throws RuncibleException {
        return tagFiles.current().byName();
    }

    /** The malformed lines skipped, across every tag file. */
    public List<String> problems() throws RuncibleException {
        return tagFiles.current().problems();
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
                    recordedSquashfsDigest(store, layer.digest()), OptionalLong.empty()));
        }
        return new ImageResources(config, layers);
    }

    /** The squashfs digest a layer's record gives, or empty where there is no record (Storm's or YARN's tools). */
    static Optional<Digest> recordedSquashfsDigest(StoreFileSystem store, Digest layer) throws RuncibleException {
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
