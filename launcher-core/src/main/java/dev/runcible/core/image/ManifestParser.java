package dev.runcible.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.runcible.api.Descriptor;
import dev.runcible.api.Digest;
import dev.runcible.api.ImageIndex;
import dev.runcible.api.ImageManifest;
import dev.runcible.api.InvalidImageException;
import dev.runcible.api.InvalidReferenceException;
import dev.runcible.api.ManifestBlob;
import dev.runcible.api.ManifestDocument;
import dev.runcible.api.MediaTypes;
import dev.runcible.api.Platform;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Parses manifests and indexes, OCI and Docker schema 2. The kind is decided in one place: schemaVersion first,
 * then mediaType, then which fields are present (OCI makes mediaType optional).
 */
public final class ManifestParser {
    private static final Set<String> MANIFEST_TYPES = Set.of(MediaTypes.OCI_MANIFEST, MediaTypes.DOCKER_MANIFEST);
    private static final Set<String> INDEX_TYPES = Set.of(MediaTypes.OCI_INDEX, MediaTypes.DOCKER_MANIFEST_LIST);

    private ManifestParser() {
    }

    public static ManifestDocument parse(ManifestBlob blob) throws InvalidImageException {
        String what = "Manifest " + blob.digest() + " from " + blob.source();
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(blob.bytes());
        } catch (IOException e) {
            throw new InvalidImageException(what + " is not valid JSON: " + firstLine(e.getMessage())
                    + "; re-import the image");
        }
        if (root == null || !root.isObject()) {
            throw new InvalidImageException(what + " is not a JSON object; re-import the image");
        }
        JsonNode version = root.get("schemaVersion");
        if (version == null || !version.isInt()) {
            throw new InvalidImageException(what + " has no integer schemaVersion");
        }
        if (version.intValue() != 2) {
            throw new InvalidImageException(what + " has schemaVersion " + version.intValue()
                    + "; only schema 2 (OCI or Docker v2) is supported, re-push the image with a current tool");
        }
        String mediaType = text(root, "mediaType", what, null);
        boolean index;
        if (mediaType != null && MANIFEST_TYPES.contains(mediaType)) {
            index = false;
        } else if (mediaType != null && INDEX_TYPES.contains(mediaType)) {
            index = true;
        } else if (mediaType != null) {
            throw new InvalidImageException(what + " has unsupported mediaType '" + mediaType + "'");
        } else if (root.has("manifests")) {
            index = true;
            mediaType = MediaTypes.OCI_INDEX;
        } else if (root.has("config") && root.has("layers")) {
            index = false;
            mediaType = MediaTypes.OCI_MANIFEST;
        } else {
            throw new InvalidImageException(what + " is neither a manifest (config, layers) nor an index (manifests)");
        }
        if (index) {
            List<Descriptor> manifests = descriptors(root, "manifests", what);
            return new ImageIndex(blob.digest(), mediaType, manifests);
        }
        JsonNode config = root.get("config");
        if (config == null || !config.isObject()) {
            throw new InvalidImageException(what + " has no config descriptor");
        }
        List<Descriptor> layers = descriptors(root, "layers", what);
        return new ImageManifest(blob.digest(), mediaType, descriptor(config, what + " config"), layers);
    }

    private static List<Descriptor> descriptors(JsonNode root, String field, String what)
            throws InvalidImageException {
        JsonNode array = root.get(field);
        if (array == null || !array.isArray()) {
            throw new InvalidImageException(what + " has no '" + field + "' array");
        }
        List<Descriptor> out = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            out.add(descriptor(array.get(i), what + " " + field + "[" + i + "]"));
        }
        return out;
    }

    private static Descriptor descriptor(JsonNode node, String what) throws InvalidImageException {
        if (!node.isObject()) {
            throw new InvalidImageException(what + " is not an object");
        }
        String mediaType = text(node, "mediaType", what, "");
        String digestText = text(node, "digest", what, null);
        if (digestText == null) {
            throw new InvalidImageException(what + " has no digest");
        }
        Digest digest;
        try {
            digest = Digest.parse(digestText);
        } catch (InvalidReferenceException e) {
            throw new InvalidImageException(what + ": " + e.getMessage());
        }
        JsonNode size = node.get("size");
        if (size == null || !size.canConvertToLong() || size.longValue() < 0 || !size.isIntegralNumber()) {
            throw new InvalidImageException(what + " has no valid size (a non-negative integer)");
        }
        Map<String, String> annotations = new LinkedHashMap<>();
        JsonNode ann = node.get("annotations");
        if (ann != null && ann.isObject()) {
            ann.fields().forEachRemaining(e -> annotations.put(e.getKey(), e.getValue().asText()));
        }
        Optional<Platform> platform = Optional.empty();
        JsonNode p = node.get("platform");
        if (p != null && p.isObject()) {
            platform = Optional.of(new Platform(p.path("os").asText(""), p.path("architecture").asText(""),
                    Optional.ofNullable(p.get("variant")).map(JsonNode::asText)));
        }
        return new Descriptor(mediaType, digest, size.longValue(), annotations, platform);
    }

    private static String text(JsonNode node, String field, String what, String absent)
            throws InvalidImageException {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return absent;
        }
        if (!value.isTextual()) {
            throw new InvalidImageException(what + " has a non-string '" + field + "'");
        }
        return value.textValue();
    }

    static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
