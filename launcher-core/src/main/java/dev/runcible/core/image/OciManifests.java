package dev.runcible.core.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.api.Descriptor;
import dev.runcible.api.MediaTypes;
import java.util.List;

/** Writes OCI image manifests, for images Runcible builds itself. */
public final class OciManifests {
    private OciManifests() {
    }

    /** The bytes of an OCI manifest (schema 2) with this config and these layers, base first. */
    public static byte[] manifest(Descriptor config, List<Descriptor> layers) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("schemaVersion", 2);
        root.put("mediaType", MediaTypes.OCI_MANIFEST);
        root.set("config", descriptor(config));
        ArrayNode array = root.putArray("layers");
        layers.forEach(layer -> array.add(descriptor(layer)));
        try {
            return Json.MAPPER.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("A tree of strings and numbers always serializes", e);
        }
    }

    private static ObjectNode descriptor(Descriptor descriptor) {
        ObjectNode node = Json.MAPPER.createObjectNode();
        node.put("mediaType", descriptor.mediaType());
        node.put("digest", descriptor.digest().toString());
        node.put("size", descriptor.size());
        return node;
    }
}
