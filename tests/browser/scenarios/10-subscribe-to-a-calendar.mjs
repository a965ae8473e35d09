// Following an institution's events: from its page, the link to subscribe to its calendar;
// the `.ics` it points to, read by an independent iCalendar parser (Mozilla's ical.js), has
// the institution's upcoming events with their titles and start times, as the JSON API lists
// them. Then the filter form of /events: choosing a district shows only that district's
// events. The demo's 甘肃省图书馆 (城关区) has a programme dated relative to today, so it has
// upcoming events whatever the date.
import ICAL from "ical.js";

export const title = "subscribing to an institution's calendar, and filtering the events";

export default async function ({ page, assert, checkAccessibility, screenshot, log }) {
  await page.goto("/institutions/gslib");
  assert.equal(await page.locator("h1").textContent(), "甘肃省图书馆");
  const subscribe = page.getByRole("link", { name: "订阅本馆活动日历（iCalendar）" });
  assert.equal(await subscribe.count(), 1, "the institution page offers its calendar");
  const href = await subscribe.getAttribute("href");
  assert.equal(href, "/calendars/institution/gslib.ics");
  await checkAccessibility("institution");

  // The calendar file, as a calendar app would fetch it.
  const response = await page.request.get(href);
  assert.equal(response.status(), 200);
  assert.match(response.headers()["content-type"], /^text\/calendar/);
  const calendar = new ICAL.Component(ICAL.parse(await response.text()));
  assert.equal(calendar.name, "vcalendar");
  assert.equal(calendar.getFirstPropertyValue("version"), "2.0");
  const vevents = calendar.getAllSubcomponents("vevent").map((c) => new ICAL.Event(c));
  assert.ok(vevents.length >= 1, "the calendar has events");

  // What the API says are the institution's upcoming events: the same titles and starts.
  const api = await (await page.request.get("/api/v1/events?institution=gslib")).json();
  assert.equal(vevents.length, api.upcoming.length, "one VEVENT per upcoming event");
  for (const event of vevents) {
    const listed = api.upcoming.find((e) => `${e.id}@jincheng` === event.uid);
    assert.ok(listed, `${event.uid} is an upcoming event of gslib`);
    assert.equal(event.summary, listed.title);
    // The API's start is Lanzhou time (a date, or a date-time without offset).
    const start = event.startDate;
    if (start.isDate) {
      assert.equal(start.toString(), listed.start.slice(0, 10), event.summary);
    } else {
      const lanzhou = new Date(start.toJSDate().getTime() + 8 * 3600 * 1000).toISOString().slice(0, 16);
      assert.equal(lanzhou, listed.start.slice(0, 16), event.summary);
    }
  }
  log(`${vevents.length} events in the calendar, first: ${vevents[0].summary} ${vevents[0].startDate}`);

  // The events page, filtered to a district with the form.
  await page.goto("/events");
  assert.equal(await page.locator("h1").textContent(), "文化活动");
  await checkAccessibility("events");
  await page.getByLabel("所在区县").selectOption("城关区");
  await Promise.all([
    page.waitForURL(/district=/),
    page.getByRole("button", { name: "筛选活动" }).click(),
  ]);
  assert.equal(await page.getByLabel("所在区县").inputValue(), "城关区", "the choice stays set");
  const organisers = await page.locator("section[aria-labelledby='upcoming'] p.meta").allTextContents();
  assert.ok(organisers.length >= 1, "城关区 has upcoming events");
  const district = await (await page.request.get("/api/v1/events?district=" + encodeURIComponent("城关区"))).json();
  const names = new Set(district.upcoming.map((e) => e.institution_name));
  for (const meta of organisers) {
    assert.ok([...names].some((n) => meta.includes(`主办：${n}`)), `only 城关区: ${meta}`);
  }
  assert.ok(!organisers.some((m) => m.includes("西固区文化馆")), "nothing of 西固区");
  const districtCalendar = page.getByRole("link", { name: "订阅城关区的活动日历（iCalendar）" });
  assert.equal(await districtCalendar.getAttribute("href"), `/calendars/district/${encodeURIComponent("城关区")}.ics`);
  await checkAccessibility("events-chengguan");
  await screenshot("events-chengguan");
}
