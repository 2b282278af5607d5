package dev.runcible.core.image;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.runcible.core.InvalidRequestException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Image settings given to {@code import} as Dockerfile instructions, like {@code docker import --change}:
 * {@code ENV K=V}, {@code WORKDIR /dir}, {@code USER name}, {@code CMD [...]} or {@code CMD cmd args},
 * {@code ENTRYPOINT [...]}.
 */
public record ImageChanges(List<String> env, Optional<List<String>> entrypoint, Optional<List<String>> cmd,
        Optional<String> workingDir, Optional<String> user) {
    public static final ImageChanges NONE = new ImageChanges(List.of(), Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty());

    public ImageChanges {
        env = List.copyOf(env);
    }

    public static ImageChanges parse(List<String> instructions) throws InvalidRequestException {
        List<String> env = new ArrayList<>();
        Optional<List<String>> entrypoint = Optional.empty();
        Optional<List<String>> cmd = Optional.empty();
        Optional<String> workingDir = Optional.empty();
        Optional<String> user = Optional.empty();
        for (String instruction : instructions) {
            String trimmed = instruction.strip();
            int space = trimmed.indexOf(' ');
            if (space < 0) {
                throw invalid(instruction, "an instruction needs an argument");
            }
            String keyword = trimmed.substring(0, space).toUpperCase(Locale.ROOT);
            String argument = trimmed.substring(space + 1).strip();
            switch (keyword) {
                case "ENV" -> {
                    int eq = argument.indexOf('=');
                    int sp = argument.indexOf(' ');
                    String entry = eq > 0 && (sp < 0 || eq < sp) ? argument
                            : sp > 0 ? argument.substring(0, sp) + "=" + argument.substring(sp + 1).strip() : null;
                    if (entry == null || !entry.substring(0, entry.indexOf('=')).matches("[A-Za-z_][A-Za-z0-9_]*")) {
                        throw invalid(instruction, "use ENV NAME=value");
                    }
                    env.add(entry);
                }
                case "WORKDIR" -> {
                    if (!argument.startsWith("/")) {
                        throw invalid(instruction, "WORKDIR must be an absolute path");
                    }
                    workingDir = Optional.of(argument);
                }
                case "USER" -> user = Optional.of(argument);
                case "CMD" -> cmd = Optional.of(command(instruction, argument));
                case "ENTRYPOINT" -> entrypoint = Optional.of(command(instruction, argument));
                default -> throw invalid(instruction, "supported instructions are ENV, WORKDIR, USER, CMD, ENTRYPOINT");
            }
        }
        return new ImageChanges(env, entrypoint, cmd, workingDir, user);
    }

    /** The JSON (exec) form is taken as is; the shell form runs under /bin/sh -c, as in a Dockerfile. */
    private static List<String> command(String instruction, String argument) throws InvalidRequestException {
        if (argument.startsWith("[")) {
            try {
                return Json.MAPPER.readValue(argument, new TypeReference<List<String>>() { });
            } catch (IOException e) {
                throw invalid(instruction, "the JSON form must be an array of strings");
            }
        }
        return List.of("/bin/sh", "-c", argument);
    }

    private static InvalidRequestException invalid(String instruction, String why) {
        return new InvalidRequestException("Invalid --change '" + instruction + "': " + why);
    }
}
