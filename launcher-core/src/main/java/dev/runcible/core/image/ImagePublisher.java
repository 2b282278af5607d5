package dev.runcible.core.image;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageStore;
import dev.runcible.api.LocalizedResource;
import dev.runcible.api.ResourceUnavailableException;
import dev.runcible.api.RuncibleException;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

/**
 * Writes a resolved image (its layers already squashfs in the node cache) into a store in the Storm/YARN layout:
 * layers with their squashfs digests, config, manifest, and the names last, so that readers see the image only
 * when it is whole.
 */
public final class ImagePublisher {
    public void publish(ResolvedImage image, List<String> names, ImageStore store) throws RuncibleException {
        try {
            for (LocalizedResource layer : image.layers()) {
                Digest squashfs = layer.fileDigest().isPresent() ? layer.fileDigest().get() : Digest.of(layer.path());
                store.putLayer(layer.resource().digest(), layer.path(), squashfs);
            }
            store.putConfig(image.configFile().resource().digest(), Files.readAllBytes(image.configFile().path()));
        } catch (IOException e) {
            throw new ResourceUnavailableException("Cannot read the cached image of '"
                    + image.reference().familiarName() + "': " + e.getMessage(), e);
        }
        store.putManifest(image.manifestBlob().digest(), image.manifestBlob().bytes());
        store.tag(names, image.manifestBlob().digest());
    }
}
