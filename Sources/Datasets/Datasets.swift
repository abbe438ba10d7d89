import Tape
public enum DatasetsPlaceholder {}
