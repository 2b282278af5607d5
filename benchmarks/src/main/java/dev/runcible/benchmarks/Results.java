package dev.runcible.benchmarks;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.runcible.core.image.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The figures of one benchmark, written beside its markdown report for {@link Report} to gather. */
final class Results {
    /** One figure against its goal; {@code lowerIsBetter} says which side of the goal passes. */
    record Figure(String name, double value, double goal, boolean lowerIsBetter, String unit) {
        boolean met() {
            return lowerIsBetter ? value <= goal : value >= goal;
        }
    }

    private Results() {
    }

    static void write(Path home, String benchmark, List<Figure> figures) throws IOException {
        ArrayNode array = Json.MAPPER.createArrayNode();
        for (Figure figure : figures) {
            ObjectNode node = array.addObject();
            node.put("name", figure.name());
            node.put("value", figure.value());
            node.put("goal", figure.goal());
            node.put("lowerIsBetter", figure.lowerIsBetter());
            node.put("unit", figure.unit());
        }
        Path dir = Files.createDirectories(home.resolve("benchmarks/results"));
        Files.write(dir.resolve(benchmark + ".json"), Json.MAPPER.writeValueAsBytes(array));
    }
}
