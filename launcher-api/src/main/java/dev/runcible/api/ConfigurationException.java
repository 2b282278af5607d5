package dev.runcible.api;

import java.util.List;

/** Every problem found in one configuration, reported together so an operator fixes them in one pass. */
public class ConfigurationException extends RuncibleException {
    private final List<String> problems;

    public ConfigurationException(List<String> problems) {
        super(format(problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }

    private static String format(List<String> problems) {
        if (problems.size() == 1) {
            return "Invalid configuration: " + problems.get(0);
        }
        return "Invalid configuration (" + problems.size() + " problems): " + String.join("; ", problems);
    }
}
