// The HTTP page's entry: the page's components over the supervisor's HTTP API.
import "./style.css"
import { mountApp } from "./app.ts"
import { httpBackend } from "./httpBackend.ts"

mountApp(document.getElementById("app")!, httpBackend())
