package dev.runcible.local;

import dev.runcible.api.Digest;
import dev.runcible.api.TagFile;
import java.nio.file.Path;

/** File names of the Storm/YARN store layout under one root; the one place that knows them. */
final class StoreLayout {
    static final String SQUASHFS_DIGEST_SUFFIX = ".sha256";

    private final Path root;

    StoreLayout(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    Path tagFile() {
        return root.resolve(TagFile.FILE_NAME);
    }

    Path tagLock() {
        return root.resolve("." + TagFile.FILE_NAME + ".lock");
    }

    Path manifest(Digest digest) {
        return root.resolve("manifests").resolve(digest.hex());
    }

    Path config(Digest digest) {
        return root.resolve("config").resolve(digest.hex());
    }

    Path layer(Digest digest) {
        return root.resolve("layers").resolve(digest.hex() + ".sqsh");
    }

    /** A sha256sum-format record of the squashfs file's own digest: {@code sha256sum -c} checks it. */
    Path layerDigest(Digest digest) {
        return root.resolve("layers").resolve(digest.hex() + ".sqsh" + SQUASHFS_DIGEST_SUFFIX);
    }
}
