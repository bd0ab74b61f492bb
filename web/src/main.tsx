/** The nursing-station web app's entry: one App into #app (docs/station.md). */
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { render } from 'preact';
import { App } from './app.js';

render(<App />, document.getElementById('app')!);
