// The services this stack runs, by their declarations, each in its own folder.
// They share the stack's network, cluster and load balancer (infra/environment.ts).
// A team that brings its own service deletes app/ (the calculator and its tests)
// and lists its own declarations here (npm run new-service writes them).
import { calculator } from "../app/service";
import { ServiceDeclaration } from "./declaration";

export const services: ServiceDeclaration[] = [calculator];
