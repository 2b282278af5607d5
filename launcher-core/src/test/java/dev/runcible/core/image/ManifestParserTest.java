package dev.runcible.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.api.Digest;
import dev.runcible.api.ImageIndex;
import dev.runcible.api.ImageManifest;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.ManifestBlob;
import dev.runcible.api.MediaTypes;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ManifestParserTest {
    static final String D1 = "sha256:" + "1".repeat(64);
    static final String D2 = "sha256:" + "2".repeat(64);
    static final String D3 = "sha256:" + "3".repeat(64);

    static ManifestBlob blob(String json) {
        return new ManifestBlob(new Digest("sha256", "f".repeat(64)), json.getBytes(StandardCharsets.UTF_8), "test");
    }

    @Test
    void parsesADockerSchema2Manifest() throws Exception {
        ImageManifest manifest = (ImageManifest) ManifestParser.parse(blob("""
                {"schemaVersion":2,"mediaType":"%s",
                 "config":{"mediaType":"%s","size":7023,"digest":"%s"},
                 "layers":[{"mediaType":"%s","size":32654,"digest":"%s"},
                           {"mediaType":"%s","size":16724,"digest":"%s"}]}
                """.formatted(MediaTypes.DOCKER_MANIFEST, MediaTypes.DOCKER_CONFIG, D1,
                MediaTypes.DOCKER_LAYER_TAR_GZIP, D2, MediaTypes.DOCKER_LAYER_TAR_GZIP, D3)));
        assertThat(manifest.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
        assertThat(manifest.config().digest().toString()).isEqualTo(D1);
        assertThat(manifest.config().size()).isEqualTo(7023);
        assertThat(manifest.layers()).extracting(l -> l.digest().toString()).containsExactly(D2, D3);
    }

    @Test
    void parsesAnOciManifestWithoutMediaTypeByItsFields() throws Exception {
        ImageManifest manifest = (ImageManifest) ManifestParser.parse(blob("""
                {"schemaVersion":2,"config":{"mediaType":"%s","size":1,"digest":"%s"},
                 "layers":[{"mediaType":"%s","size":2,"digest":"%s","annotations":{"a":"b"}}],"extra":true}
                """.formatted(MediaTypes.OCI_CONFIG, D1, MediaTypes.OCI_LAYER_TAR, D2)));
        assertThat(manifest.mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
        assertThat(manifest.layers().get(0).annotations()).containsEntry("a", "b");
    }

    @Test
    void parsesAnIndexWithPlatforms() throws Exception {
        ImageIndex index = (ImageIndex) ManifestParser.parse(blob("""
                {"schemaVersion":2,"mediaType":"%s","manifests":[
                  {"mediaType":"%s","size":1,"digest":"%s","platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
                  {"mediaType":"%s","size":2,"digest":"%s","platform":{"os":"linux","architecture":"amd64"}}]}
                """.formatted(MediaTypes.OCI_INDEX, MediaTypes.OCI_MANIFEST, D1, MediaTypes.OCI_MANIFEST, D2)));
        assertThat(index.manifests()).hasSize(2);
        assertThat(index.manifests().get(0).platform().orElseThrow().toString()).isEqualTo("linux/arm64/v8");
        assertThat(index.manifests().get(1).platform().orElseThrow().toString()).isEqualTo("linux/amd64");
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(delimiter = '|', value = {
            "not json|is not valid JSON",
            "[1,2]|is not a JSON object",
            "{}|has no integer schemaVersion",
            "{\"schemaVersion\":\"2\"}|has no integer schemaVersion",
            "{\"schemaVersion\":1,\"fsLayers\":[]}|schemaVersion 1",
            "{\"schemaVersion\":2,\"mediaType\":\"text/plain\"}|unsupported mediaType 'text/plain'",
            "{\"schemaVersion\":2,\"mediaType\":7}|non-string 'mediaType'",
            "{\"schemaVersion\":2}|neither a manifest",
            "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}|config has no digest",
            "{\"schemaVersion\":2,\"config\":5,\"layers\":[]}|has no config descriptor",
            "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:1\",\"size\":1},\"layers\":[]}|Invalid digest 'sha256:1'",
            "{\"schemaVersion\":2,\"config\":{\"digest\":\"" + "sha256:1111111111111111111111111111111111111111111111111111111111111111" + "\",\"size\":-1},\"layers\":[]}|no valid size",
            "{\"schemaVersion\":2,\"config\":{\"digest\":\"" + "sha256:1111111111111111111111111111111111111111111111111111111111111111" + "\",\"size\":1.5},\"layers\":[]}|no valid size",
            "{\"schemaVersion\":2,\"config\":{\"digest\":\"" + "sha256:1111111111111111111111111111111111111111111111111111111111111111" + "\",\"size\":1},\"layers\":{}}|has no 'layers' array",
            "{\"schemaVersion\":2,\"config\":{\"digest\":\"" + "sha256:1111111111111111111111111111111111111111111111111111111111111111" + "\",\"size\":1},\"layers\":[7]}|layers[0] is not an object",
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":null}|has no 'manifests' array",
    })
    void rejectsMalformedManifestsWithAPreciseMessage(String json, String why) {
        assertThatThrownBy(() -> ManifestParser.parse(blob(json)))
                .isInstanceOf(InvalidImageException.class)
                .hasMessageStartingWith("Manifest sha256:" + "f".repeat(64) + " from test")
                .hasMessageContaining(why);
    }
}
