package dev.runcible.core.image;

import dev.runcible.api.Descriptor;
import dev.runcible.api.DigestMismatchException;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageConfig;
import dev.runcible.api.ImageIndex;
import dev.runcible.api.ImageManifest;
import dev.runcible.api.ImageNotFoundException;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageResources;
import dev.runcible.api.ImageTagToManifest;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.LocalizedResource;
import dev.runcible.api.ManifestBlob;
import dev.runcible.api.ManifestDocument;
import dev.runcible.api.ManifestToResources;
import dev.runcible.api.OciResource;
import dev.runcible.api.Platform;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.config.ImagePolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Steps 1 to 5 of a launch: check the policy, resolve the tag, verify and parse the manifest (choosing this
 * platform from an index), find the resources, localize them concurrently, read the image config.
 */
public final class ImageResolver {
    private final ImagePolicy policy;
    private final ImageTagToManifest tagToManifest;
    private final ManifestToResources manifestToResources;
    private final ResourcesLocalizer localizer;
    private final ExecutorService executor;

    public ImageResolver(ImagePolicy policy, ImageTagToManifest tagToManifest, ManifestToResources
            manifestToResources, ResourcesLocalizer localizer, ExecutorService executor) {
        this.policy = policy;
        this.tagToManifest = tagToManifest;
        this.manifestToResources = manifestToResources;
        this.localizer = localizer;
        this.executor = executor;
    }

    public ResolvedImage resolve(ImageReference reference) throws RuncibleException {
        policy.check(reference);
        VerifiedManifest verified = manifest(reference);
        ManifestBlob blob = verified.blob();
        ImageManifest manifest = verified.manifest();
        if (manifest.config().size() > ImageConfig.MAX_BYTES) {
            throw new InvalidImageException("The config " + manifest.config().digest() + " of '"
                    + reference.familiarName() + "' is " + manifest.config().size() + " bytes, above the cap of "
                    + ImageConfig.MAX_BYTES + " bytes; an image config is a few KiB");
        }
        ImageResources resources = manifestToResources.resources(reference, manifest);
        List<OciResource> all = new ArrayList<>();
        all.add(resources.config());
        all.addAll(resources.layers());
        List<LocalizedResource> localized = localizeAll(all);
        ImageConfig config = readConfig(localized.get(0));
        return new ResolvedImage(reference, blob, manifest, localized.get(0), config,
                localized.subList(1, localized.size()));
    }

    /** A manifest and the bytes it was parsed from, their digest checked. */
    public record VerifiedManifest(ManifestBlob blob, ImageManifest manifest) {
    }

    /** The image manifest for this platform, following an index if the tag names one. */
    public VerifiedManifest manifest(ImageReference reference) throws RuncibleException {
        ManifestBlob blob = tagToManifest.resolve(reference);
        ManifestDocument document = verifiedParse(blob);
        if (document instanceof ImageIndex index) {
            Descriptor chosen = choosePlatform(reference, index);
            blob = tagToManifest.fetch(reference, chosen.digest());
            document = verifiedParse(blob);
            if (document instanceof ImageIndex) {
                throw new InvalidImageException("Index " + index.digest() + " of '" + reference.familiarName()
                        + "' points at another index for this platform; nested indexes are not supported");
            }
        }
        ImageManifest manifest = (ImageManifest) document;
        if (manifest.layers().isEmpty()) {
            throw new InvalidImageException("Manifest " + manifest.digest() + " of '" + reference.familiarName()
                    + "' has no layers; there is no filesystem to run");
        }
        return new VerifiedManifest(blob, manifest);
    }

    private static ManifestDocument verifiedParse(ManifestBlob blob) throws RuncibleException {
        if (blob.bytes().length > ManifestBlob.MAX_BYTES) {
            throw new InvalidImageException("Manifest " + blob.source() + " is " + blob.bytes().length
                    + " bytes, above the cap of " + ManifestBlob.MAX_BYTES + " bytes");
        }
        Digest actual = Digest.of(blob.bytes());
        if (!actual.equals(blob.digest())) {
            throw new DigestMismatchException("Manifest " + blob.source() + " is corrupt: expected digest "
                    + blob.digest() + ", its bytes hash to " + actual + "; re-import the image");
        }
        return ManifestParser.parse(blob);
    }

    private static Descriptor choosePlatform(ImageReference reference, ImageIndex index)
            throws ImageNotFoundException {
        Platform host = HostPlatform.current();
        Descriptor fallback = null;
        List<String> offered = new ArrayList<>();
        for (Descriptor entry : index.manifests()) {
            if (entry.platform().isEmpty()) {
                offered.add("(no platform)");
                continue;
            }
            Platform platform = entry.platform().get();
            offered.add(platform.toString());
            if (HostPlatform.matches(host, platform)) {
                if (platform.variant().equals(host.variant())) {
                    return entry;
                }
                if (fallback == null) {
                    fallback = entry;
                }
            }
        }
        if (fallback != null) {
            return fallback;
        }
        throw new ImageNotFoundException("Image '" + reference.familiarName() + "' has no manifest for " + host
                + "; its index offers " + offered);
    }

    private List<LocalizedResource> localizeAll(List<OciResource> resources) throws RuncibleException {
        List<Future<LocalizedResource>> futures = new ArrayList<>();
        for (OciResource resource : resources) {
            futures.add(executor.submit(() -> localizer.localize(resource)));
        }
        List<LocalizedResource> out = new ArrayList<>();
        RuncibleException failure = null;
        for (Future<LocalizedResource> future : futures) {
            try {
                out.add(future.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                futures.forEach(f -> f.cancel(true));
                throw new ResourceUnavailableException("Interrupted while localizing layers", e);
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof RuncibleException r ? r
                            : new ResourceUnavailableException("Localizing failed: " + e.getCause(), e.getCause());
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        return out;
    }

    private static ImageConfig readConfig(LocalizedResource config) throws RuncibleException {
        try {
            long size = Files.size(config.path());
            if (size > ImageConfig.MAX_BYTES) {
                throw new InvalidImageException("Image config " + config.path() + " is " + size
                        + " bytes, above the cap of " + ImageConfig.MAX_BYTES + " bytes");
            }
            return ImageConfigParser.parse(config.resource().digest(), Files.readAllBytes(config.path()));
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot read image config " + config.path() + ": "
                    + e.getMessage(), e);
        }
    }
}
