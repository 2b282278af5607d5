package dev.runcible.hdfs;

import dev.runcible.api.Digest;
import dev.runcible.api.TagFile;
import java.net.URI;
import org.apache.hadoop.fs.Path;

/** File names of the Storm/YARN store layout under an HDFS root. */
record HdfsLayout(URI root) {
    Path rootPath() {
        return new Path(root);
    }

    Path tagFile() {
        return new Path(rootPath(), TagFile.FILE_NAME);
    }

    Path tagLock() {
        return new Path(rootPath(), "." + TagFile.FILE_NAME + ".lock");
    }

    Path manifest(Digest digest) {
        return new Path(new Path(rootPath(), "manifests"), digest.hex());
    }

    Path config(Digest digest) {
        return new Path(new Path(rootPath(), "config"), digest.hex());
    }

    Path layer(Digest digest) {
        return new Path(new Path(rootPath(), "layers"), digest.hex() + ".sqsh");
    }

    Path layerDigest(Digest digest) {
        return new Path(new Path(rootPath(), "layers"), digest.hex() + ".sqsh.sha256");
    }
}
