#if canImport(Glibc)
import Glibc
#endif

// lab: the command-line front end. Each subcommand parses its own options strictly.

let usage = """
usage: lab COMMAND [OPTIONS]

commands:
  models                      list the model names
  params MODEL [--json]       parameters per module
  predict --model M --weights W.safetensors --input X.safetensors --output Y.safetensors [--train-mode]
  grad    --model M --weights W.safetensors --input X.safetensors --output G.safetensors
"""

/// Writes a line to standard error.
func printError(_ text: String) {
    let line = text + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}

func run(_ command: String, _ rest: [String]) throws {
    switch command {
    case "models":
        _ = try Arguments(rest, valueOptions: [], flagOptions: [])
        listModels()
    case "params":
        try parameters(Arguments(rest, valueOptions: [], flagOptions: ["json"]))
    case "predict":
        try predict(Arguments(rest, valueOptions: ["model", "weights", "input", "output"], flagOptions: ["train-mode"]))
    case "grad":
        try gradients(Arguments(rest, valueOptions: ["model", "weights", "input", "output"], flagOptions: []))
    case "help", "--help", "-h":
        print(usage)
    default:
        throw LabError("unknown command '\(command)'", usage: true)
    }
}

let commandLine = Array(CommandLine.arguments.dropFirst())
guard let command = commandLine.first else {
    printError(usage)
    exit(2)
}
do {
    try run(command, Array(commandLine.dropFirst()))
} catch let error as LabError {
    printError("lab: error: \(error.description)")
    if error.isUsage { printError(usage) }
    exit(error.isUsage ? 2 : 1)
} catch {
    printError("lab: error: \(error)")
    exit(1)
}
