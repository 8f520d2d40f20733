// The service this stack runs, by its declaration in its own folder. A team
// that brings its own service deletes app/ (the calculator and its tests) and
// names its own declaration here.
import { calculator } from "../app/service";
import { ServiceDeclaration } from "./declaration";

export const service: ServiceDeclaration = calculator;
