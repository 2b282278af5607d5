package dev.runcible.registry;

import dev.runcible.api.Descriptor;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageManifest;
import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageResources;
import dev.runcible.api.ImageTagToManifest;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.ManifestBlob;
import dev.runcible.api.ManifestToResources;
import dev.runcible.api.MediaTypes;
import dev.runcible.api.OciResource;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** Resolves references against their registries and points the localizer at the blobs there. */
final class RegistryImages implements ImageTagToManifest, ManifestToResources {
    /** Gives the shared client, made on first use so that creating the plugin does no I/O. */
    interface Clients {
        RegistryClient client() throws ResourceUnavailableException;
    }

    private final Clients clients;

    RegistryImages(Clients clients) {
        this.clients = clients;
    }

    @Override
    public ManifestBlob resolve(ImageReference reference) throws RuncibleException {
        reference.requireDockerName(); // a Storm-style name (uppercase and the like) only a store can hold
        if (reference.digest().isPresent()) {
            return fetch(reference, reference.digest().get());
        }
        String tag = reference.tag().orElseThrow();
        RegistryClient.Manifest manifest = clients.client().manifest(reference.registry(), reference.repository(),
                tag);
        // The registry says which manifest the tag names (Docker-Content-Digest): the core checks the bytes against
        // that, so a manifest damaged or swapped on the way is refused. Without the header a tag is trusted for
        // this pull, as docker trusts it; a reference with @sha256: pins the image instead.
        Digest expected = manifest.digestHeader().flatMap(RegistryImages::sha256Header)
                .orElseGet(() -> Digest.of(manifest.bytes()));
        return new ManifestBlob(expected, manifest.bytes(), reference.registry() + "/" + reference.repository() + ":"
                + tag);
    }

    @Override
    public ManifestBlob fetch(ImageReference reference, Digest digest) throws RuncibleException {
        RegistryClient.Manifest manifest = clients.client().manifest(reference.registry(),
                reference.repository(), digest.toString());
        return new ManifestBlob(digest, manifest.bytes(), reference.registry() + "/" + reference.repository() + "@"
                + digest);
    }

    @Override
    public ImageResources resources(ImageReference reference, ImageManifest manifest) throws RuncibleException {
        Descriptor config = manifest.config();
        OciResource configResource = new OciResource(config.digest(), config.mediaType(), OciResource.Kind.CONFIG,
                OciResource.Format.JSON, location(reference, config.digest()), Optional.of(config.digest()),
                OptionalLong.of(config.size()));
        List<OciResource> layers = new ArrayList<>();
        for (Descriptor layer : manifest.layers()) {
            layers.add(new OciResource(layer.digest(), layer.mediaType(), OciResource.Kind.LAYER,
                    format(reference, layer), location(reference, layer.digest()), Optional.of(layer.digest()),
                    OptionalLong.of(layer.size())));
        }
        return new ImageResources(configResource, layers);
    }

    private static java.net.URI location(ImageReference reference, Digest digest) {
        return new BlobLocation(reference.registry(), reference.repository(), digest).toUri();
    }

    static OciResource.Format format(ImageReference reference, Descriptor layer) throws InvalidImageException {
        String type = layer.mediaType();
        if (type.equals(MediaTypes.OCI_LAYER_TAR) || type.equals("application/vnd.oci.image.layer.nondistributable.v1.tar")) {
            return OciResource.Format.TAR;
        }
        if (type.equals(MediaTypes.OCI_LAYER_TAR_GZIP) || type.equals(MediaTypes.DOCKER_LAYER_TAR_GZIP)
                || type.equals("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")
                || type.equals("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")) {
            return OciResource.Format.TAR_GZIP;
        }
        if (type.equals(MediaTypes.OCI_LAYER_TAR_ZSTD)
                || type.equals("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd")) {
            return OciResource.Format.TAR_ZSTD;
        }
        throw new InvalidImageException("Image '" + reference.familiarName() + "' has layer " + layer.digest()
                + " of media type '" + type + "', which is not a tar layer Runcible can convert");
    }

    /** A {@code Docker-Content-Digest} value, if it is a well-formed sha256 digest. */
    static Optional<Digest> sha256Header(String value) {
        String text = value.strip();
        if (!text.startsWith(Digest.SHA256 + ":") || !Digest.isHex(text.substring(Digest.SHA256.length() + 1))) {
            return Optional.empty();
        }
        return Optional.of(new Digest(Digest.SHA256, text.substring(Digest.SHA256.length() + 1)));
    }

}
